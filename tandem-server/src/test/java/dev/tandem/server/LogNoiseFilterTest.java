package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;

class LogNoiseFilterTest {
    private static final String STREAMING = "io.debezium.connector.postgresql.PostgresStreamingChangeEventSource";
    private final LoggerContext context = new LoggerContext();
    private final LogNoiseFilter filter = new LogNoiseFilter();

    private LoggingEvent event(String logger, String message, Object... args) {
        return new LoggingEvent(getClass().getName(), context.getLogger(logger), Level.WARN, message, null, args);
    }

    @Test
    void dropsTheInterruptedFlushWarningOfAStoppingStream() {
        assertThat(filter.decide(event(STREAMING, "LSN flush operation for '{}' was interrupted. Continuing without "
                + "waiting for flush completion.", "LSN{0/1DF2FC8}"))).isEqualTo(FilterReply.DENY);
    }

    @Test
    void keepsEveryOtherWarningOfTheSameLoggerAndTheSameTextElsewhere() {
        assertThat(filter.decide(event(STREAMING, "Processing of a message failed"))).isEqualTo(FilterReply.NEUTRAL);
        assertThat(filter.decide(event("dev.tandem.Other", "LSN flush operation for '{}' was interrupted", "x")))
                .isEqualTo(FilterReply.NEUTRAL);
    }
}
