package dev.tandem.core.migrate;

import dev.tandem.core.backfill.BackfillResult;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.lifecycle.Status;
import java.util.List;

/**
 * How {@code tandem migrate} ended.
 *
 * @param failure     null when the migration did what was asked; else the error class (exit code)
 * @param interrupted stopped by Ctrl-C or SIGTERM (exit 130)
 */
public record MigrationOutcome(String migrationId, Status status, BackfillResult backfill, List<String> schemaActions,
                               ErrorCode failure, String message, boolean interrupted) {
    /** Exit code of a run stopped by the operator (Ctrl-C): 128 + SIGINT, as shells report it. */
    public static final int INTERRUPTED_EXIT = 130;

    public MigrationOutcome(String migrationId, Status status, BackfillResult backfill, List<String> schemaActions,
                            ErrorCode failure, String message) {
        this(migrationId, status, backfill, schemaActions, failure, message, false);
    }

    public int exitCode() {
        if (failure != null) {
            return failure.exitCode();
        }
        return interrupted || (backfill != null && backfill.interrupted()) ? INTERRUPTED_EXIT : 0;
    }
}
