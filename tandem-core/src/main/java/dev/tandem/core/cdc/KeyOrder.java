package dev.tandem.core.cdc;

import dev.tandem.core.spi.KeyColumn;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Orders key values in Java exactly as the source database orders them, for the key types where that is certain:
 * whole numbers, numeric (NaN last, as PostgreSQL sorts it) and uuid (byte order, which is the order of the
 * lower-case text). Text keys sort by the column's collation, which Java cannot reproduce, so they get no order
 * here; the caller then gates the whole table instead of its chunks.
 */
final class KeyOrder {
    private static final Set<String> INTEGER = Set.of("smallint", "integer", "bigint", "int2", "int4", "int8",
            "int", "tinyint", "mediumint");
    private static final Set<String> DECIMAL = Set.of("numeric", "decimal");

    private KeyOrder() {
    }

    /** The order of whole keys (lexicographic by column), if every column's type has one. */
    static Optional<Comparator<List<String>>> of(List<KeyColumn> key) {
        List<Comparator<String>> columns = new ArrayList<>();
        for (KeyColumn k : key) {
            String base = k.type().toLowerCase(Locale.ROOT).replaceAll("[ (].*", "");
            if (INTEGER.contains(base) || base.equals("serial") || base.equals("bigserial")) {
                columns.add(Comparator.comparing(BigInteger::new));
            } else if (DECIMAL.contains(base)) {
                columns.add(KeyOrder::compareNumeric);
            } else if (base.equals("uuid")) {
                columns.add(Comparator.comparing(s -> s.toLowerCase(Locale.ROOT)));
            } else {
                return Optional.empty();
            }
        }
        return Optional.of((a, b) -> {
            for (int i = 0; i < columns.size(); i++) {
                int c = columns.get(i).compare(a.get(i), b.get(i));
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        });
    }

    private static int compareNumeric(String a, String b) {
        boolean nanA = a.equalsIgnoreCase("NaN");
        boolean nanB = b.equalsIgnoreCase("NaN");
        if (nanA || nanB) {
            return Boolean.compare(nanA, nanB);
        }
        return new BigDecimal(a).compareTo(new BigDecimal(b));
    }
}
