package dev.tandem.core.spi;

import java.util.Set;

/** A column of a chunk key with its type as the database spells it, so key values can be cast back exactly. */
public record KeyColumn(String name, String type) {
    private static final Set<String> INTEGER_TYPES = Set.of("smallint", "integer", "bigint", "int2", "int4", "int8",
            "tinyint", "mediumint", "int");

    /** Whether the key column is a whole number, so ranges can be split arithmetically. */
    public boolean isInteger() {
        String base = type.toLowerCase(java.util.Locale.ROOT).replaceAll("[ (].*", "");
        return INTEGER_TYPES.contains(base);
    }
}
