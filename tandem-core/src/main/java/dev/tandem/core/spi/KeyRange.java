package dev.tandem.core.spi;

import java.util.List;

/**
 * A range of a table's chunk key, both ends inclusive; a null end is unbounded. Values are in key column order and
 * are compared by the database, never in Java, so collations cannot disagree.
 */
public record KeyRange(List<String> columns, List<Object> min, List<Object> max) {
    public static KeyRange all(List<String> columns) {
        return new KeyRange(columns, null, null);
    }
}
