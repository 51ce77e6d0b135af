package dev.tandem.core.manifest;

/** Seed 000's {@code migration.type}: a one-off copy, or a copy followed by change data capture. */
public enum MigrationType {
    FULL,
    INCREMENTAL
}
