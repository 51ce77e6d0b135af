package dev.tandem.core.store;

import java.time.Instant;

/**
 * One execution of a backfill or verify (seed 003's cdm_run_info).
 *
 * @param runId     timestamp-based, like seed 003's ({@code 1704067200000000000}): epoch nanoseconds
 * @param prevRunId the run whose unfinished chunks this one redoes, or null
 * @param rangeMin  seed 003's custom range: lowest key included, or null
 * @param rangeMax  highest key included, or null
 * @param rowsPerSecond the copy throttle for all workers together; 0 means unlimited; may change while running
 * @param chunksPlanned how many chunks the run was planned with, stored in the same transaction as they were; null
 *                      for runs stored before the store recorded it
 */
public record RunRecord(long runId, String migrationId, Kind kind, RunStatus status, Long prevRunId, String rangeMin,
                        String rangeMax, String runInfo, long rowsPerSecond, Instant createdAt, Instant startedAt,
                        Instant endedAt, Integer chunksPlanned) {

    public enum Kind {
        BACKFILL,
        VERIFY
    }
}
