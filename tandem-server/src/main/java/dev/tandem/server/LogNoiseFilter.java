package dev.tandem.server;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops library warnings that say nothing to an operator, by logger and message, so the rest of those loggers'
 * warnings still show. Each entry says why it is noise.
 */
public final class LogNoiseFilter extends Filter<ILoggingEvent> {
    @Override
    public FilterReply decide(ILoggingEvent e) {
        // Debezium, stopping a stream while it confirms a position to the slot: Tandem's positions are in its own
        // store (the next start resumes from there), the slot's confirmation just moves at the next start.
        if (e.getLoggerName().equals("io.debezium.connector.postgresql.PostgresStreamingChangeEventSource")
                && e.getMessage() != null && e.getMessage().startsWith("LSN flush operation for")
                && e.getMessage().contains("was interrupted")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
