package dev.tandem.core.store;

import java.time.Instant;

/**
 * One key range of one table in one run (seed 003's cdm_run_details).
 *
 * @param keyMin          the range's lower bound as a JSON array of key values (text form); null when unbounded
 * @param keyMinInclusive whether {@code keyMin} itself is in the range (only a run's --range-min start is)
 * @param keyMax          the range's upper bound, inclusive, as a JSON array; null when unbounded
 * @param rowsEstimated   how many rows the planner expected, for progress
 * @param error           why the last attempt failed, when status is FAIL
 */
public record ChunkRecord(long runId, String tableName, int chunkNo, String keyMin, boolean keyMinInclusive,
                          String keyMax, ChunkStatus status, long rowsEstimated, long rowsDone, long bytesDone,
                          int attempts, String error, Instant updatedAt) {

    /** A chunk about to be planned: nothing done yet. */
    public static ChunkRecord planned(String tableName, int chunkNo, String keyMin, boolean keyMinInclusive,
                                      String keyMax, long rowsEstimated) {
        return new ChunkRecord(0, tableName, chunkNo, keyMin, keyMinInclusive, keyMax, ChunkStatus.NOT_STARTED,
                rowsEstimated, 0, 0, 0, null, null);
    }

    /** A chunk about to be planned, with an exclusive lower bound and no estimate. */
    public static ChunkRecord planned(String tableName, int chunkNo, String keyMin, String keyMax) {
        return planned(tableName, chunkNo, keyMin, false, keyMax, 0);
    }
}
