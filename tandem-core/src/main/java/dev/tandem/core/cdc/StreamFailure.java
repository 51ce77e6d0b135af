package dev.tandem.core.cdc;

import dev.tandem.core.spi.Role;
import dev.tandem.core.store.StreamDirection;

/**
 * Why a change stream stopped on its own, told apart by the side that failed and whether it can resume — so the
 * operator hears "the source" or "the target", and is promised a resume from the confirmed position only when the
 * source still keeps the changes after it.
 *
 * @param direction which of the migration's streams failed
 * @param side    the database that failed: the one the stream reads ({@link Kind#SOURCE_LOST},
 *                {@link Kind#READ_FAILED}, {@link Kind#STREAM_GONE}, {@link Kind#SCHEMA_CHANGE}) or the one it
 *                applies to ({@link Kind#APPLY})
 * @param kind    what happened
 * @param message what the driver or the capture said (secrets scrubbed by the caller before it is shown)
 * @param cause   the original error
 */
public record StreamFailure(StreamDirection direction, Role side, Kind kind, String message, Throwable cause) {
    /** What happened. */
    public enum Kind {
        /** Applying to the target failed; the stream can resume once the cause is fixed. */
        APPLY,
        /** The source stayed unreachable for longer than {@code cdc.reconnect_timeout}; it can resume. */
        SOURCE_LOST,
        /** The source refused the stream for another reason (configuration, privileges); it can resume. */
        READ_FAILED,
        /** The stream's state on the source is gone (slot dropped or invalidated): it cannot resume. */
        STREAM_GONE,
        /**
         * A table's columns changed on the source ({@code cause} is the {@link SchemaStop}): stopped before the first
         * change of the new shape; it resumes once the target takes that shape.
         */
        SCHEMA_CHANGE
    }

    /** The schema change that stopped the stream, for {@link Kind#SCHEMA_CHANGE}. */
    public java.util.Optional<SchemaStop> schemaStop() {
        return cause instanceof SchemaStop s ? java.util.Optional.of(s) : java.util.Optional.empty();
    }

    /** The side of {@code direction}'s stream: the forward stream reads the source, the reverse the target. */
    static Role reading(StreamDirection direction) {
        return direction == StreamDirection.FORWARD ? Role.SOURCE : Role.TARGET;
    }

    static Role applying(StreamDirection direction) {
        return direction == StreamDirection.FORWARD ? Role.TARGET : Role.SOURCE;
    }

    /** Whether the stream can continue from its confirmed position once the cause is fixed. */
    public boolean resumable() {
        return kind != Kind.STREAM_GONE;
    }
}
