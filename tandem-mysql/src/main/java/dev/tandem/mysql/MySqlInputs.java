package dev.tandem.mysql;

import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.types.PgArrays;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A value in Tandem's change form ({@link dev.tandem.core.spi.Change}: the text PostgreSQL reads as input, which the
 * binlog capture writes too) turned into what a MySQL / MariaDB target column takes: {@code t}/{@code f} into 0 or 1,
 * {@code \x} hex into bytes, a BIT's binary digits into its number, a timestamp's zone offset into UTC (the writing
 * session is in UTC, {@link MySqlSql#configure}), an interval's days into hours. A value the column cannot hold
 * exactly ({@code NaN}, {@code infinity}, a year before 1, an interval in months) is an error naming the column, never
 * a silently different value; the session's strict SQL mode refuses the rest (a number out of range, a string too
 * long).
 */
final class MySqlInputs {
    private static final Pattern ZONED = Pattern.compile(
            "(\\d{4,}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(?:\\.\\d{1,9})?)([+-]\\d\\d(?::?\\d\\d(?::?\\d\\d)?)?)");
    private static final DateTimeFormatter LOCAL = new DateTimeFormatterBuilder().appendPattern("uuuu-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd().toFormatter();
    private static final DateTimeFormatter OUT = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");
    private static final Pattern TIME = Pattern.compile("-?\\d+:\\d\\d:\\d\\d(?:\\.\\d+)?");
    private static final Pattern DAYS = Pattern.compile("(-?\\d+) days? ([+-]?)(\\d+):(\\d\\d:\\d\\d(?:\\.\\d+)?)");

    private MySqlInputs() {
    }

    /** How a column's type takes its values. */
    enum Kind {
        /** Integers, decimals, year: {@code t}/{@code f} become 1/0 (a PostgreSQL boolean into tinyint(1)). */
        NUMBER,
        FLOATING,
        /** BIT(n): a number, from binary digits or t/f. */
        BIT,
        /** Binary strings and blobs: bytes. */
        BYTES,
        DATE,
        DATETIME,
        TIME,
        /** A SET: PostgreSQL's {@code text[]} it was made as becomes MySQL's comma-separated members. */
        SET,
        TEXT;

        static Kind of(String nativeType) {
            String base = nativeType.toLowerCase(Locale.ROOT).replaceAll("[ (].*", "");
            return switch (base) {
                case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "year",
                     "bool", "boolean" -> NUMBER;
                case "float", "double", "real" -> FLOATING;
                case "bit" -> BIT;
                case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> BYTES;
                case "date" -> DATE;
                case "datetime", "timestamp" -> DATETIME;
                case "time" -> TIME;
                case "set" -> SET;
                default -> TEXT;
            };
        }
    }

    /** One target column's conversion. */
    static final class Input {
        final String column;
        final Kind kind;
        private final String where;

        private Input(TableRef table, ColumnInfo column) {
            this.column = column.name();
            this.kind = Kind.of(column.nativeType());
            this.where = table.qualified() + "." + column.name();
        }

        /** The value to bind for {@code text} (null for SQL NULL): a String, a byte[] or a Long. */
        Object bind(String text) throws SQLException {
            if (text == null) {
                return null;
            }
            return switch (kind) {
                case BYTES -> bytes(text);
                case BIT -> bit(text);
                default -> text(text);
            };
        }

        /** The value as MySQL reads it from text (a BIT as its decimal number, bytes as hex digits), or null. */
        String text(String text) throws SQLException {
            if (text == null) {
                return null;
            }
            return switch (kind) {
                case NUMBER -> switch (text) {
                    case "t", "true" -> "1";
                    case "f", "false" -> "0";
                    default -> {
                        if (text.equalsIgnoreCase("NaN")) {
                            throw refused(text, "MySQL has no NaN", "set it to NULL or a number on the source");
                        }
                        yield text;
                    }
                };
                case FLOATING -> {
                    if (text.equalsIgnoreCase("NaN") || text.toLowerCase(Locale.ROOT).contains("infinity")) {
                        throw refused(text, "MySQL floating-point columns hold no NaN or infinity",
                                "set it to NULL or a finite number on the source");
                    }
                    yield text;
                }
                case BIT -> Long.toUnsignedString(bit(text));
                case BYTES -> HexFormat.of().formatHex(bytes(text));
                case DATE, DATETIME -> dateTime(text);
                case TIME -> time(text);
                case SET -> set(text);
                case TEXT -> text;
            };
        }

        private String set(String text) throws SQLException {
            if (!text.startsWith("{")) {
                return text;
            }
            try {
                return String.join(",", PgArrays.parse(text));
            } catch (IllegalArgumentException e) {
                throw refused(text, "a SET takes a list of its members (" + e.getMessage() + ")",
                        "set it to a list of the column's members on the source");
            }
        }

        private byte[] bytes(String text) {
            if (text.startsWith("\\x")) {
                return HexFormat.of().parseHex(text, 2, text.length());
            }
            return text.getBytes(StandardCharsets.UTF_8);
        }

        private long bit(String text) throws SQLException {
            switch (text) {
                case "t", "true" -> {
                    return 1;
                }
                case "f", "false" -> {
                    return 0;
                }
                default -> {
                    if (text.isEmpty() || text.length() > 64 || !text.chars().allMatch(ch -> ch == '0' || ch == '1')) {
                        throw refused(text, "a BIT column takes binary digits (or a boolean)",
                                "set it to a bit string on the source");
                    }
                    return Long.parseUnsignedLong(text, 2);
                }
            }
        }

        private String dateTime(String text) throws SQLException {
            if (text.startsWith("infinity") || text.startsWith("-infinity") || text.endsWith(" BC")) {
                throw refused(text, "MySQL dates run from year 1 to 9999, with no infinity",
                        "set it to NULL or a date in that range on the source");
            }
            Matcher m = ZONED.matcher(text);
            if (!m.matches()) {
                return text;
            }
            String offset = m.group(2);
            if (offset.equals("+00") || offset.equals("+00:00")) {
                return m.group(1);
            }
            String iso = offset.length() == 3 ? offset + ":00" : offset.length() == 5 ? offset.substring(0, 3) + ":"
                    + offset.substring(3) : offset;
            LocalDateTime local = LocalDateTime.parse(m.group(1), LOCAL);
            return OUT.format(OffsetDateTime.of(local, ZoneOffset.of(iso)).withOffsetSameInstant(ZoneOffset.UTC)
                    .toLocalDateTime());
        }

        private String time(String text) throws SQLException {
            if (TIME.matcher(text).matches()) {
                return text;
            }
            Matcher m = DAYS.matcher(text);
            if (m.matches()) {
                // PostgreSQL prints an interval's days and time with signs of their own ("-1 days -02:00:00"): only
                // one sign throughout is one MySQL TIME
                long days = Long.parseLong(m.group(1));
                boolean negative = m.group(2).equals("-");
                if (days == 0 || (days < 0) == negative) {
                    long hours = Math.abs(days) * 24 + Long.parseLong(m.group(3));
                    return (days < 0 || negative ? "-" : "") + hours + ":" + m.group(4);
                }
            }
            throw refused(text, "a MySQL TIME holds hours, minutes and seconds of one sign (up to 838:59:59)",
                    "set it to an interval of days and time on the source");
        }

        private SQLException refused(String text, String rule, String fix) {
            String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
            return new SQLException(where + ": the value '" + shown + "' cannot be written to MySQL/MariaDB: " + rule
                    + "; " + fix, "22000");
        }
    }

    static Input of(TableRef table, ColumnInfo column) {
        return new Input(table, column);
    }
}
