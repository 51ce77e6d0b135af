package dev.tandem.core.manifest;

/** {@code schema:} whether Tandem creates the target tables from the source's, or validates existing ones. */
public enum SchemaMode {
    /** Create the target tables (an existing non-empty target table is an error, never overwritten). */
    CREATE,
    /** The target tables exist; check that they are compatible and report every mismatch. */
    EXISTING
}
