package dev.tandem.core.spi;

import java.util.List;

/**
 * A range of a table's chunk key. Bounds are key values in the database's own text form, in key column order; the
 * database compares them (never Java), so collations cannot disagree. {@code lower} is exclusive unless
 * {@code lowerInclusive}; {@code upper} is inclusive; a null bound is unbounded.
 */
public record KeyRange(List<KeyColumn> columns, List<String> lower, boolean lowerInclusive, List<String> upper) {

    public KeyRange {
        columns = List.copyOf(columns);
        if (lower != null && lower.size() != columns.size() || upper != null && upper.size() != columns.size()) {
            throw new IllegalArgumentException("a key bound needs one value per key column " + columns);
        }
        lower = lower == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(lower));
        upper = upper == null ? null : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(upper));
    }

    public static KeyRange all(List<KeyColumn> columns) {
        return new KeyRange(columns, null, false, null);
    }

    public boolean isUnbounded() {
        return lower == null && upper == null;
    }
}
