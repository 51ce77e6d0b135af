package dev.tandem.postgres;

import dev.tandem.core.spi.ColumnChange;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.TableRef;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A schema change of the source written as the target's ALTER TABLE ({@code cdc.on_schema_change}), and which type
 * changes are widenings that keep every value exactly.
 */
final class PgAlter {
    private static final List<String> INTEGERS = List.of("smallint", "integer", "bigint");
    private static final Pattern NUMERIC = Pattern.compile("numeric(?:\\((\\d+)(?:,(\\d+))?\\))?");
    private static final Pattern VARCHAR = Pattern.compile("character varying(?:\\((\\d+)\\))?");

    private PgAlter() {
    }

    static List<String> statements(TableRef table, ColumnChange change) {
        String alter = "ALTER TABLE " + PgSql.table(table) + " ";
        String col = PgIdent.quote(change.column());
        return switch (change.kind()) {
            case ADD -> List.of(alter + "ADD COLUMN " + col + " " + definition(change.source()));
            case DROP -> List.of(alter + "DROP COLUMN " + col);
            case TYPE -> List.of(alter + "ALTER COLUMN " + col + " TYPE " + change.source().nativeType() + " USING "
                    + col + "::" + change.source().nativeType());
            case RENAME -> List.of(alter + "RENAME COLUMN " + PgIdent.quote(change.previousName()) + " TO " + col);
        };
    }

    /** The column's type, default and NOT NULL, as ADD COLUMN takes them. */
    private static String definition(ColumnInfo c) {
        StringBuilder sb = new StringBuilder(c.nativeType());
        if (c.generated() && c.defaultExpression() != null) {
            return sb.append(" GENERATED ALWAYS AS (").append(c.defaultExpression()).append(") STORED").toString();
        }
        if (c.defaultExpression() != null) {
            sb.append(" DEFAULT ").append(c.defaultExpression());
        }
        if (!c.nullable()) {
            sb.append(" NOT NULL");
        }
        return sb.toString();
    }

    /**
     * Whether a column of type {@code from} may become {@code to} keeping every value exactly: a wider integer,
     * integer to numeric, numeric with more digits on both sides of the point, real to double precision, varchar to a
     * longer varchar or text.
     */
    static boolean widens(String from, String to) {
        String f = normal(from);
        String t = normal(to);
        if (f.equals(t)) {
            return true;
        }
        int fi = INTEGERS.indexOf(f);
        int ti = INTEGERS.indexOf(t);
        if (fi >= 0 && ti >= 0) {
            return ti > fi;
        }
        Matcher tn = NUMERIC.matcher(t);
        if (fi >= 0 && tn.matches()) {
            int[] digits = {5, 10, 19};
            return tn.group(1) == null || Integer.parseInt(tn.group(1)) - scale(tn) >= digits[fi];
        }
        Matcher fn = NUMERIC.matcher(f);
        if (fn.matches() && tn.matches()) {
            if (tn.group(1) == null) {
                return true;
            }
            if (fn.group(1) == null) {
                return false;
            }
            int fs = scale(fn);
            int ts = scale(tn);
            return ts >= fs && Integer.parseInt(tn.group(1)) - ts >= Integer.parseInt(fn.group(1)) - fs;
        }
        if (f.equals("real") && t.equals("double precision")) {
            return true;
        }
        Matcher fv = VARCHAR.matcher(f);
        if (fv.matches()) {
            if (t.equals("text")) {
                return true;
            }
            Matcher tv = VARCHAR.matcher(t);
            return tv.matches() && (tv.group(1) == null || fv.group(1) != null
                    && Integer.parseInt(tv.group(1)) >= Integer.parseInt(fv.group(1)));
        }
        return false;
    }

    private static int scale(Matcher numeric) {
        return numeric.group(2) == null ? 0 : Integer.parseInt(numeric.group(2));
    }

    private static String normal(String type) {
        return type == null ? "" : type.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ")
                .replaceAll("\\s*,\\s*", ",");
    }
}
