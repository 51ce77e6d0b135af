package dev.tandem.core.migrate;

import dev.tandem.core.backfill.BackfillListener;
import java.util.function.Consumer;

/**
 * What a running migration tells whoever watches it — the CLI's output, the server's event stream — as typed events,
 * never lines to be parsed back. Called from the migration's threads; implementations are thread-safe and quick.
 * Copy progress comes through the {@link BackfillListener} part.
 */
public interface MigrationListener extends BackfillListener {

    /** A line for the operator: a step taken, something found. */
    void line(String text);

    /** An alert rule started firing or resolved; it is in the store already. By default, its line. */
    default void alert(AlertEvent event) {
        line(event.line());
    }

    /** A table given up under {@code failure_handling: allow_partial}; it is in the store already. */
    default void tableGivenUp(String table, String why) {
        line("failure_handling allow_partial: table " + table + " is given up, its changes are skipped from now on "
                + "(the other tables go on): " + why);
    }

    /** Lines to {@code say}; copy progress is not shown. */
    static MigrationListener lines(Consumer<String> say) {
        return say::accept;
    }

    /** Copy progress to {@code progress}, everything else as lines to {@code say}. */
    static MigrationListener of(BackfillListener progress, Consumer<String> say) {
        return new MigrationListener() {
            @Override
            public void line(String text) {
                say.accept(text);
            }

            @Override
            public void planned(String table, long estimatedRows, int chunks) {
                progress.planned(table, estimatedRows, chunks);
            }

            @Override
            public void rows(String table, long rows, long bytes) {
                progress.rows(table, rows, bytes);
            }

            @Override
            public void chunkDone(String table, int chunkNo, long rows, long bytes, long streamedRows) {
                progress.chunkDone(table, chunkNo, rows, bytes, streamedRows);
            }

            @Override
            public void chunkFailed(String table, int chunkNo, int attempt, String error, boolean willRetry,
                                    long streamedRows) {
                progress.chunkFailed(table, chunkNo, attempt, error, willRetry, streamedRows);
            }

            @Override
            public void finished() {
                progress.finished();
            }

            @Override
            public void warning(String message) {
                progress.warning(message);
            }
        };
    }
}
