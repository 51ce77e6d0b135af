package dev.tandem.core.engine;

import dev.tandem.core.backfill.BackfillResult;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.lifecycle.Status;
import java.util.List;

/**
 * How {@code tandem migrate} ended.
 *
 * @param failure null when the migration did what was asked; else the error class (exit code)
 */
public record MigrationOutcome(String migrationId, Status status, BackfillResult backfill, List<String> schemaActions,
                               ErrorCode failure, String message) {

    public int exitCode() {
        if (failure != null) {
            return failure.exitCode();
        }
        return backfill != null && backfill.interrupted() ? MigrationRunner.INTERRUPTED_EXIT : 0;
    }
}
