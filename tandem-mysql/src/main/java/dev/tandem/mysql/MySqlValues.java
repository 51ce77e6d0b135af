package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.types.PgArrays;
import dev.tandem.core.spi.TableRef;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A MySQL / MariaDB column's values written as PostgreSQL text COPY reads them for the type the column maps to
 * ({@code dev.tandem.core.types.TypeMapping}, {@code mysql-to-postgresql.tsv}), escaped for COPY's text format
 * (backslash, tab, newline, carriage return; NULL as {@code \N}). The reading session is in UTC
 * ({@link MySqlSql#configure}), so a TIMESTAMP's text is its UTC time and leaves with {@code +00}.
 */
final class MySqlValues {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private MySqlValues() {
    }

    /** How one column is selected and written. */
    interface Value {
        /** The column's select-list expression. */
        String select();

        /** Appends the value at {@code index} of the current row, in COPY text, to {@code out}. */
        void append(ResultSet rs, int index, StringBuilder out) throws SQLException;
    }

    private enum Kind { RAW, TEXT, DOUBLE, FLOAT, BYTES, BIT, DATE, DATETIME, TIMESTAMP, ARRAY }

    /**
     * @param types the manifest's choices towards PostgreSQL: what a zero date becomes ({@code schema.zero_dates}:
     *              NULL, or the chunk's failure), and whether a {@code set} is made as a {@code text[]}
     */
    static Value of(TableRef table, ColumnInfo column, ColumnTypes types) throws SQLException {
        ColumnTypes.ZeroDates zeroDates = types.zeroDatesOrRefuse();
        String type = column.nativeType().toLowerCase(Locale.ROOT);
        String base = type.replaceAll("[ (].*", "");
        boolean array = base.equals("set") && "text[]".equals(types.postgresType(table.schema(), table.name(),
                column.name(), column.nativeType()).orElse(null));
        Kind kind = switch (base) {
            case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "year", "time" ->
                    Kind.RAW;
            case "float" -> Kind.FLOAT;
            case "double", "real" -> Kind.DOUBLE;
            case "bit" -> Kind.BIT;
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> Kind.BYTES;
            case "date" -> Kind.DATE;
            case "datetime" -> Kind.DATETIME;
            case "timestamp" -> Kind.TIMESTAMP;
            case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                 "geometrycollection" -> throw new SQLException(table.qualified() + "." + column.name() + " is "
                    + column.nativeType() + ": spatial types are not copied; leave the table out (scope.exclude)");
            default -> array ? Kind.ARRAY : Kind.TEXT; // char, varchar, text, enum, set, json, and the like
        };
        int bits = kind == Kind.BIT ? bitWidth(type) : 0;
        String quoted = MySqlSql.quote(column.name());
        // the text protocol prints a FLOAT in 6 significant digits: selected as a double, its value is exact
        String select = kind == Kind.FLOAT ? "(" + quoted + " + 0E0) AS " + quoted : quoted;
        String where = table.qualified() + "." + column.name();
        return new Value() {
            @Override
            public String select() {
                return select;
            }

            @Override
            public void append(ResultSet rs, int i, StringBuilder out) throws SQLException {
                switch (kind) {
                    case RAW -> raw(rs.getString(i), out);
                    case TEXT -> text(rs.getString(i), out);
                    case ARRAY -> {
                        String s = rs.getString(i);
                        text(s == null ? null : PgArrays.format(setMembers(s)), out);
                    }
                    case FLOAT, DOUBLE -> floating(rs, i, out);
                    case BYTES -> bytes(rs.getBytes(i), out);
                    case BIT -> bit(rs.getBytes(i), bits, out);
                    case DATE, DATETIME -> raw(checkDate(rs.getString(i), where, zeroDates), out);
                    case TIMESTAMP -> {
                        String s = checkDate(rs.getString(i), where, zeroDates);
                        if (s == null) {
                            out.append("\\N");
                        } else {
                            out.append(s).append("+00");
                        }
                    }
                    default -> throw new IllegalStateException(kind.name());
                }
            }
        };
    }

    /**
     * The column's values in {@link dev.tandem.core.spi.CopyFormat#MYSQL_TEXT}, for a MySQL / MariaDB target: the
     * server's own text (zero dates included), floating point in full precision, binary strings as hex digits and BIT
     * as its number, which {@link MySqlChunkWriter} turns back with UNHEX and CAST.
     */
    static Value loadData(TableRef table, ColumnInfo column) throws SQLException {
        MySqlInputs.Kind kind = MySqlInputs.Kind.of(column.nativeType());
        String base = column.nativeType().toLowerCase(Locale.ROOT).replaceAll("[ (].*", "");
        if (Set.of("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                "geometrycollection").contains(base)) {
            throw new SQLException(table.qualified() + "." + column.name() + " is " + column.nativeType()
                    + ": spatial types are not copied; leave the table out (scope.exclude)");
        }
        String quoted = MySqlSql.quote(column.name());
        String select = switch (kind) {
            case BIT -> "CAST(" + quoted + " AS UNSIGNED)";
            case FLOATING -> "(" + quoted + " + 0E0)";
            default -> quoted;
        };
        boolean floating = kind == MySqlInputs.Kind.FLOATING;
        boolean binary = kind == MySqlInputs.Kind.BYTES;
        return new Value() {
            @Override
            public String select() {
                return select;
            }

            @Override
            public void append(ResultSet rs, int i, StringBuilder out) throws SQLException {
                if (floating) {
                    floating(rs, i, out);
                } else if (binary) {
                    // hex made here, not by the server: HEX() would double a large blob inside max_allowed_packet
                    byte[] b = rs.getBytes(i);
                    if (b == null) {
                        out.append("\\N");
                    } else {
                        for (byte x : b) {
                            out.append(HEX[(x >> 4) & 0xf]).append(HEX[x & 0xf]);
                        }
                    }
                } else {
                    loadText(rs.getString(i), out);
                }
            }
        };
    }

    /** A SET's value as MySQL prints it ({@code a,c}; {@code ''} when empty) as its members. */
    static List<String> setMembers(String value) {
        return value.isEmpty() ? List.of() : List.of(value.split(",", -1));
    }

    /** {@code LOAD DATA}'s escaping: COPY's, and NUL (which a MySQL string may hold) as {@code \0}. */
    static void loadText(String s, StringBuilder out) {
        escape(s, out, true);
    }

    /** A FLOAT or DOUBLE in the shortest text that reads back as the same double. */
    private static void floating(ResultSet rs, int i, StringBuilder out) throws SQLException {
        double d = rs.getDouble(i);
        if (rs.wasNull()) {
            out.append("\\N");
        } else {
            out.append(d);
        }
    }

    /** A value whose text needs no escaping (numbers, dates), or NULL. */
    private static void raw(String s, StringBuilder out) {
        if (s == null) {
            out.append("\\N");
        } else {
            out.append(s);
        }
    }

    static void text(String s, StringBuilder out) {
        escape(s, out, false);
    }

    private static void escape(String s, StringBuilder out, boolean nul) {
        if (s == null) {
            out.append("\\N");
            return;
        }
        for (int k = 0; k < s.length(); k++) {
            char ch = s.charAt(k);
            switch (ch) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\0' -> out.append(nul ? "\\0" : "\0");
                default -> out.append(ch);
            }
        }
    }

    /** bytea's hex form, its backslash escaped for COPY. */
    private static void bytes(byte[] b, StringBuilder out) {
        if (b == null) {
            out.append("\\N");
            return;
        }
        out.append("\\\\x");
        for (byte x : b) {
            out.append(HEX[(x >> 4) & 0xf]).append(HEX[x & 0xf]);
        }
    }

    /**
     * BIT(n) arrives as its bytes, big-endian: BIT(1) as 0 or 1 (which PostgreSQL's boolean and bit(1) both read),
     * wider ones as a string of n binary digits.
     */
    private static void bit(byte[] b, int width, StringBuilder out) {
        if (b == null) {
            out.append("\\N");
            return;
        }
        long v = 0;
        for (byte x : b) {
            v = (v << 8) | (x & 0xff);
        }
        if (width <= 1) {
            out.append(v == 0 ? '0' : '1');
            return;
        }
        for (int k = width - 1; k >= 0; k--) {
            out.append((v >>> k & 1) == 0 ? '0' : '1');
        }
    }

    private static int bitWidth(String type) {
        int open = type.indexOf('(');
        return open < 0 ? 1 : Integer.parseInt(type.substring(open + 1, type.indexOf(')')).trim());
    }

    /**
     * A zero date ({@code 0000-00-00}, or a zero month or day, which MySQL accepts without NO_ZERO_DATE /
     * NO_ZERO_IN_DATE) has no PostgreSQL value: NULL where {@code schema.zero_dates: as_null} says so, else the
     * chunk fails naming the column, rather than a made-up date.
     */
    private static String checkDate(String s, String where, ColumnTypes.ZeroDates zeroDates) throws SQLException {
        if (!zeroDate(s) || zeroDates == ColumnTypes.ZeroDates.KEEP) {
            return s;
        }
        if (zeroDates == ColumnTypes.ZeroDates.AS_NULL) {
            return null;
        }
        throw new SQLException(where + " holds the zero date '" + s + "', which PostgreSQL has no value for; "
                + "set it to NULL or a real date on the source (UPDATE ... WHERE " + where.substring(
                where.lastIndexOf('.') + 1) + " = '" + s + "'), write schema.zero_dates: as_null to copy zero dates "
                + "as NULL, or leave the table out (scope.exclude)");
    }

    /** Whether a date's text is a zero date, or has a zero month or day ({@code 0000} alone: a zero year's start). */
    static boolean zeroDate(String s) {
        return s != null && (s.startsWith("0000-00") || s.length() >= 10 && (s.startsWith("00", 5)
                || s.startsWith("00", 8)));
    }
}
