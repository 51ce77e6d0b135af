package dev.tandem.core.store;

import java.util.EnumSet;
import java.util.Set;

/** Seed 003's chunk statuses (cdm_run_details.status). */
public enum ChunkStatus {
    NOT_STARTED,
    STARTED,
    PASS,
    FAIL,
    /** A verify found differences in the chunk. */
    DIFF,
    /** A verify found differences and repaired them. */
    DIFF_CORRECTED;

    /** What a run naming this one as previous run redoes (seed 003: NOT_STARTED, STARTED, FAIL, DIFF). */
    public static final Set<ChunkStatus> REDONE_BY_NEXT_RUN = EnumSet.of(NOT_STARTED, STARTED, FAIL, DIFF);

    public boolean isRedoneByNextRun() {
        return REDONE_BY_NEXT_RUN.contains(this);
    }
}
