package dev.tandem.core.backfill;

/**
 * What a backfill tells whoever watches it (the CLI's progress bars, later the REST event stream). Called from the
 * worker threads; implementations are thread-safe and quick.
 */
public interface BackfillListener {

    /** The run is about to start: a table with its estimated rows and its chunks to do. */
    default void planned(String table, long estimatedRows, int chunks) {
    }

    /** Rows passed through a chunk being copied (not committed yet). */
    default void rows(String table, long rows, long bytes) {
    }

    /** A chunk committed on the target; {@code streamedRows} were reported through {@link #rows} before. */
    default void chunkDone(String table, int chunkNo, long rows, long bytes, long streamedRows) {
    }

    /** A chunk attempt failed; its {@code streamedRows} are no longer done. */
    default void chunkFailed(String table, int chunkNo, int attempt, String error, boolean willRetry,
                             long streamedRows) {
    }

    /** The run ended (complete, failed or stopped); nothing more will be reported for it. */
    default void finished() {
    }

    /** Something the operator should know once (a setting that could not be applied on the target, say). */
    default void warning(String message) {
    }

    BackfillListener NONE = new BackfillListener() { };
}
