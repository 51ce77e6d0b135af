package dev.tandem.core.store;

import java.time.Instant;

/**
 * One key range of one table in one run (seed 003's cdm_run_details).
 *
 * @param keyMin lowest key of the range as a JSON array of key column values; null when unbounded below
 * @param keyMax highest key of the range (inclusive) as a JSON array; null when unbounded above
 * @param error  why the last attempt failed, when status is FAIL
 */
public record ChunkRecord(long runId, String tableName, int chunkNo, String keyMin, String keyMax, ChunkStatus status,
                          long rowsDone, long bytesDone, int attempts, String error, Instant updatedAt) {

    /** A chunk about to be planned: nothing done yet. */
    public static ChunkRecord planned(String tableName, int chunkNo, String keyMin, String keyMax) {
        return new ChunkRecord(0, tableName, chunkNo, keyMin, keyMax, ChunkStatus.NOT_STARTED, 0, 0, 0, null, null);
    }
}
