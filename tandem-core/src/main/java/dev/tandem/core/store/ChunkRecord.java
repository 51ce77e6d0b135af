package dev.tandem.core.store;

import java.time.Instant;

/**
 * One key range of one table in one run (seed 003's cdm_run_details).
 *
 * @param keyMin          the range's lower bound as a JSON array of key values (text form); null when unbounded
 * @param keyMinInclusive whether {@code keyMin} itself is in the range (only a run's --range-min start is)
 * @param keyMax          the range's upper bound, inclusive, as a JSON array; null when unbounded
 * @param rowsEstimated   how many rows the planner expected, for progress
 * @param targetEmpty     no row of the range can be on the target yet (this migration created the table and no
 *                        attempt at the range ever started), so the first attempt need not delete the range
 * @param error           why the last attempt failed, when status is FAIL
 */
public record ChunkRecord(long runId, String tableName, int chunkNo, String keyMin, boolean keyMinInclusive,
                          String keyMax, ChunkStatus status, long rowsEstimated, boolean targetEmpty, long rowsDone,
                          long bytesDone, int attempts, String error, Instant updatedAt) {

    /** A chunk about to be planned: nothing done yet. */
    public static ChunkRecord planned(String tableName, int chunkNo, String keyMin, boolean keyMinInclusive,
                                      String keyMax, long rowsEstimated, boolean targetEmpty) {
        return new ChunkRecord(0, tableName, chunkNo, keyMin, keyMinInclusive, keyMax, ChunkStatus.NOT_STARTED,
                rowsEstimated, targetEmpty, 0, 0, 0, null, null);
    }

    /** This chunk planned again for a next run (seed 003's {@code --prev-run}): its range and estimate, nothing done. */
    public ChunkRecord again(boolean stillEmptyOnTarget) {
        return planned(tableName, chunkNo, keyMin, keyMinInclusive, keyMax, rowsEstimated, stillEmptyOnTarget);
    }

    /** A chunk about to be planned, with an exclusive lower bound, no estimate, and a target to be cleared first. */
    public static ChunkRecord planned(String tableName, int chunkNo, String keyMin, String keyMax) {
        return planned(tableName, chunkNo, keyMin, false, keyMax, 0, false);
    }
}
