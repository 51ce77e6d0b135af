package dev.tandem.core.store;

/** Seed 003's run statuses (cdm_run_info.status). */
public enum RunStatus {
    NOT_STARTED,
    STARTED,
    ENDED
}
