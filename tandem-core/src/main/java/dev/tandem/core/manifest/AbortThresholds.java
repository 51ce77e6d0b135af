package dev.tandem.core.manifest;

/**
 * {@code abort_thresholds:} crossing any of these aborts the migration by itself (seed 001's abort criteria).
 * A null field is not checked.
 */
public record AbortThresholds(Double lagSeconds, Long driftRows, Double shadowMismatchRate, Double errorRate) {
    public static final AbortThresholds NONE = new AbortThresholds(null, null, null, null);
}
