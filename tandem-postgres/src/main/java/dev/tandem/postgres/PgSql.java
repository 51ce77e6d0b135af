package dev.tandem.postgres;

import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableRef;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * SQL text for key ranges. COPY takes no bind parameters, so key values are written as literals: each value is the
 * database's own text form of it, quoted with every {@code '} doubled and cast to the key column's type. That is
 * exact as long as the session has standard_conforming_strings on, which every Tandem session sets.
 */
final class PgSql {
    private PgSql() {
    }

    static String table(TableRef t) {
        return PgIdent.qualified(t.schema(), t.name());
    }

    static String columns(List<String> columns) {
        return columns.stream().map(PgIdent::quote).collect(Collectors.joining(", "));
    }

    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    /** {@code WHERE ...} selecting the range, or the empty string when it is unbounded. */
    static String where(KeyRange r) {
        List<String> parts = new ArrayList<>();
        if (r.lower() != null) {
            parts.add(tuple(r.columns()) + (r.lowerInclusive() ? " >= " : " > ") + values(r.columns(), r.lower()));
        }
        if (r.upper() != null) {
            parts.add(tuple(r.columns()) + " <= " + values(r.columns(), r.upper()));
        }
        return parts.isEmpty() ? "" : " WHERE " + String.join(" AND ", parts);
    }

    /** The range as a boolean SQL expression; {@code TRUE} when it is unbounded. */
    static String predicate(KeyRange r) {
        String w = where(r);
        return w.isEmpty() ? "TRUE" : "(" + w.substring(" WHERE ".length()) + ")";
    }

    /** {@code a} or {@code (a, b)}: a row comparison over a composite key is lexicographic and uses the key index. */
    static String tuple(List<KeyColumn> key) {
        String cols = key.stream().map(k -> PgIdent.quote(k.name())).collect(Collectors.joining(", "));
        return key.size() == 1 ? cols : "(" + cols + ")";
    }

    static String values(List<KeyColumn> key, List<String> values) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            out.add(literal(values.get(i)) + "::" + key.get(i).type());
        }
        return key.size() == 1 ? out.get(0) : "(" + String.join(", ", out) + ")";
    }

    static String orderBy(List<KeyColumn> key, boolean descending) {
        return key.stream().map(k -> PgIdent.quote(k.name()) + (descending ? " DESC" : ""))
                .collect(Collectors.joining(", "));
    }
}
