package dev.tandem.core.migrate;

import dev.tandem.core.backfill.BackfillRunner;

/**
 * An operator's stop of the migration this process runs (Ctrl-C, a server pausing it, a lost lease), asked from any
 * thread at any moment — before the run starts too. Every phase looks at it between its steps; a copy in flight is
 * stopped at once (its chunks roll back).
 */
final class StopSignal {
    private volatile boolean requested;
    private volatile String why = "interrupted (Ctrl-C)";
    private volatile boolean immediate;
    private volatile BackfillRunner copy;

    /** @param immediate a change stream rolls its batch in flight back instead of finishing it */
    void request(String reason, boolean rollBackBatch) {
        this.why = reason;
        this.immediate = rollBackBatch;
        this.requested = true;
        BackfillRunner b = copy;
        if (b != null) {
            b.stop();
        }
    }

    /** The copy now running (null once it ended): a stop reaches it. */
    void copying(BackfillRunner b) {
        copy = b;
        if (b != null && requested) {
            b.stop();
        }
    }

    boolean requested() {
        return requested;
    }

    String why() {
        return why;
    }

    boolean immediate() {
        return immediate;
    }
}
