package dev.tandem.core.lifecycle;

import java.util.Locale;

/** Seed 002's eight lifecycle states. Their wire names are lower case ({@code rolling_back}). */
public enum MigrationState {
    /** Created but not configured: source or target still missing. */
    PENDING,
    /** Configured (endpoints and manifest valid); ready to execute. */
    READY,
    /** In progress; the phase says where. */
    RUNNING,
    /** Temporarily stopped by an operator; resumable. */
    PAUSED,
    /** Finished successfully. Terminal. */
    COMPLETED,
    /** Stopped by an error; can be retried or aborted. */
    FAILED,
    /** Reverting: routing back to the source, streams and slots being dropped. */
    ROLLING_BACK,
    /** Reverted. Terminal. */
    ROLLED_BACK;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isTerminal() {
        return this == COMPLETED || this == ROLLED_BACK;
    }

    public static MigrationState fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
