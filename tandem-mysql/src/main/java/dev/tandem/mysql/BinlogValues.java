package dev.tandem.mysql;

import com.github.shyiko.mysql.binlog.event.deserialization.json.JsonBinary;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.types.PgArrays;
import java.io.IOException;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.Charset;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * A binlog row's cell as the text PostgreSQL reads for the type the column maps to
 * ({@code mysql-to-postgresql.tsv}), the same text {@link MySqlValues} writes for the copy (unescaped: a change
 * carries plain input text). The binlog client decodes with dates and times as microseconds since the epoch
 * (DATETIME as its wall clock in UTC, TIMESTAMP as the instant; proleptic Gregorian, {@link BinlogDecoding#unixMillis}),
 * zero dates as a {@link BinlogDecoding.ZeroDate} — written, refused or NULL by {@code schema.zero_dates}, as the
 * copy does ({@link MySqlValues}) — and strings and binaries as bytes, decoded here in the column's character set.
 */
final class BinlogValues {
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final DateTimeFormatter DATETIME = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");

    private BinlogValues() {
    }

    /** How one column's cells become text. */
    interface Cell {
        String text(Serializable value);
    }

    private enum Kind { SIGNED, UNSIGNED, DECIMAL, FLOAT, DOUBLE, BIT, TEXT, BYTES, JSON, ENUM, SET, DATE, DATETIME,
        TIMESTAMP, TIME, YEAR }

    /**
     * @param charset the column's character set (null for a column that holds none)
     * @param mariaDb   MariaDB writes JSON as text (a checked LONGTEXT), MySQL in its binary form
     * @param zeroDates what a zero date becomes: its text (a MySQL target), NULL, or the stream's stop, naming the
     *                  column
     * @param setAsArray a {@code set} goes to a PostgreSQL {@code text[]}: written as an array
     */
    static Cell of(String where, ColumnInfo column, Charset charset, boolean mariaDb,
                   ColumnTypes.ZeroDates zeroDates, boolean setAsArray) {
        String type = column.nativeType().toLowerCase(Locale.ROOT);
        String base = type.replaceAll("[ (].*", "");
        boolean unsigned = type.contains("unsigned");
        Kind kind = switch (base) {
            case "tinyint", "smallint", "mediumint", "int", "integer", "bigint" -> unsigned ? Kind.UNSIGNED
                    : Kind.SIGNED;
            case "decimal", "numeric" -> Kind.DECIMAL;
            case "float" -> Kind.FLOAT;
            case "double", "real" -> Kind.DOUBLE;
            case "bit" -> Kind.BIT;
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> Kind.BYTES;
            case "json" -> mariaDb ? Kind.TEXT : Kind.JSON;
            case "enum" -> Kind.ENUM;
            case "set" -> Kind.SET;
            case "date" -> Kind.DATE;
            case "datetime" -> Kind.DATETIME;
            case "timestamp" -> Kind.TIMESTAMP;
            case "time" -> Kind.TIME;
            case "year" -> Kind.YEAR;
            case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                 "geometrycollection" -> throw new IllegalArgumentException(where + " is " + column.nativeType()
                    + ": spatial types are not streamed; leave the table out (scope.exclude)");
            default -> Kind.TEXT;
        };
        int width = switch (base) {
            case "tinyint" -> 8;
            case "smallint" -> 16;
            case "mediumint" -> 24;
            case "int", "integer" -> 32;
            default -> 64;
        };
        int bits = kind == Kind.BIT ? bitWidth(type) : 0;
        List<String> members = kind == Kind.ENUM || kind == Kind.SET ? members(column.nativeType()) : List.of();
        Charset cs = charset == null ? java.nio.charset.StandardCharsets.UTF_8 : charset;
        return v -> {
            if (v == null) {
                return null;
            }
            if (v instanceof BinlogDecoding.ZeroDate zero) {
                return switch (zeroDates) {
                    case KEEP -> zero.text();
                    case AS_NULL -> null;
                    case REFUSE -> throw new IllegalArgumentException(where + " was written with the zero date '"
                            + zero.text() + "', which PostgreSQL has no value for; set it to NULL or a real date on "
                            + "the source, or write schema.zero_dates: as_null to stream zero dates as NULL");
                };
            }
            return switch (kind) {
                case SIGNED, YEAR -> v.toString();
                case UNSIGNED -> unsigned((Number) v, width);
                case DECIMAL -> ((BigDecimal) v).toPlainString();
                case FLOAT -> Float.toString(((Number) v).floatValue());
                case DOUBLE -> Double.toString(((Number) v).doubleValue());
                case BIT -> bit((BitSet) v, bits);
                case TEXT -> v instanceof byte[] b ? new String(b, cs) : v.toString();
                case BYTES -> hex(v instanceof byte[] b ? b : v.toString().getBytes(cs));
                case JSON -> json((byte[]) v, where);
                case ENUM -> {
                    int i = ((Number) v).intValue();
                    yield i <= 0 || i > members.size() ? "" : members.get(i - 1); // 0: MySQL's error value ''
                }
                case SET -> setAsArray ? PgArrays.format(set(((Number) v).longValue(), members))
                        : String.join(",", set(((Number) v).longValue(), members));
                case DATE -> wallClock(micros(v, where)).toLocalDate().toString();
                case DATETIME -> DATETIME.format(wallClock(micros(v, where)));
                case TIMESTAMP -> DATETIME.format(wallClock(micros(v, where))) + "+00";
                case TIME -> time(micros(v, where));
            };
        };
    }

    private static long micros(Serializable v, String where) {
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException(where + ": the binary log holds " + v + " for a date or time");
        }
        return n.longValue();
    }

    private static LocalDateTime wallClock(long micros) {
        Instant at = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
        return LocalDateTime.ofInstant(at, ZoneOffset.UTC);
    }

    /** A TIME as an interval's text: it may be negative or beyond 24 hours. */
    private static String time(long micros) {
        long abs = Math.abs(micros);
        long seconds = abs / 1_000_000L;
        return String.format(Locale.ROOT, "%s%d:%02d:%02d.%06d", micros < 0 ? "-" : "", seconds / 3600,
                seconds / 60 % 60, seconds % 60, abs % 1_000_000L);
    }

    private static String unsigned(Number v, int width) {
        long x = v.longValue();
        if (x >= 0) {
            return Long.toString(x);
        }
        return width == 64 ? BigInteger.valueOf(x).add(BigInteger.ONE.shiftLeft(64)).toString()
                : Long.toString(x + (1L << width));
    }

    private static String bit(BitSet b, int width) {
        if (width <= 1) {
            return b.get(0) ? "1" : "0";
        }
        StringBuilder out = new StringBuilder(width);
        for (int k = width - 1; k >= 0; k--) {
            out.append(b.get(k) ? '1' : '0');
        }
        return out.toString();
    }

    private static String hex(byte[] b) {
        StringBuilder out = new StringBuilder(2 + 2 * b.length).append("\\x");
        for (byte x : b) {
            out.append(HEX[(x >> 4) & 0xf]).append(HEX[x & 0xf]);
        }
        return out.toString();
    }

    private static String json(byte[] b, String where) {
        try {
            return JsonBinary.parseAsString(b);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": cannot read MySQL's binary JSON: " + e.getMessage(), e);
        }
    }

    private static List<String> set(long bits, List<String> members) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            if ((bits >>> i & 1) != 0) {
                out.add(members.get(i));
            }
        }
        return out;
    }

    private static int bitWidth(String type) {
        int open = type.indexOf('(');
        return open < 0 ? 1 : Integer.parseInt(type.substring(open + 1, type.indexOf(')')).trim());
    }

    /** The members of {@code enum('a','b')} or {@code set('x','y')}, unquoted ('' inside is one quote). */
    static List<String> members(String type) {
        List<String> out = new ArrayList<>();
        int i = type.indexOf('(') + 1;
        while (i > 0 && i < type.length()) {
            if (type.charAt(i) != '\'') {
                i++;
                continue;
            }
            StringBuilder m = new StringBuilder();
            i++;
            while (i < type.length()) {
                char c = type.charAt(i);
                if (c == '\'' && i + 1 < type.length() && type.charAt(i + 1) == '\'') {
                    m.append('\'');
                    i += 2;
                } else if (c == '\'') {
                    i++;
                    break;
                } else {
                    m.append(c);
                    i++;
                }
            }
            out.add(m.toString());
        }
        return out;
    }
}
