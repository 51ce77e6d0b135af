package dev.tandem.core.store;

import java.util.Locale;

/** How a row differs between source and target, as drift is stored and reported. */
public enum DriftKind {
    /** On both sides, with different values. */
    MISMATCH,
    /** On the source only. */
    MISSING_ON_TARGET,
    /** On the target only. */
    EXTRA_ON_TARGET,
    /**
     * Not a row: the table's columns differ (a column on one side only, or its type); keyed by the column
     * ({@code {"column": name}}, never a row key, which is a JSON array), never repaired by verify.
     */
    SCHEMA;

    /** As stored and shown: {@code mismatch}, {@code missing_on_target}, {@code extra_on_target}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static DriftKind fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
