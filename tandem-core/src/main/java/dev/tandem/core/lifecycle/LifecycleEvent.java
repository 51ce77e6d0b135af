package dev.tandem.core.lifecycle;

import java.util.Locale;

/** What can happen to a migration. {@link Lifecycle} says from which states each is legal and where it leads. */
public enum LifecycleEvent {
    /** Endpoints and manifest are complete: pending → ready. */
    CONFIGURE,
    /** Execute: ready → running (phase prepare). */
    START,
    PAUSE,
    RESUME,
    /** Move running to a later phase. */
    ADVANCE,
    /** An error stopped the migration. */
    FAIL,
    /** Run a failed migration again from where it stopped. */
    RETRY,
    /** Abandon the migration and return everything to the source. */
    ABORT,
    /** The rollback finished: rolling_back → rolled_back. */
    ROLLBACK_DONE,
    /** Cleanup finished: running in cleanup → completed. */
    COMPLETE;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
