package dev.tandem.core.backfill;

import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ChunkStatus;
import java.util.List;
import java.util.Map;

/**
 * How a backfill run ended.
 *
 * @param complete     every chunk PASS
 * @param interrupted  stopped by the operator (Ctrl-C) before the end
 * @param failedTables tables given up under {@code allow_partial}
 * @param failure      why the run stopped, when it did; {@code failedSide} says which database
 */
public record BackfillResult(long runId, boolean complete, boolean interrupted, List<TableResult> tables,
                             List<String> failedTables, String failure, Role failedSide) {

    /** One table's outcome. */
    public record TableResult(String table, long rows, long bytes, double seconds, Map<ChunkStatus, Long> chunks) {
    }
}
