package dev.tandem.core.verify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.RowReader;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.types.PgArrays;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checksums computed by Tandem over rows two different engines return ({@link RowReader}), for verify across
 * engines (DESIGN.md correctness point 5): each value is encoded in one canonical, type-normalised text — so that a
 * MySQL {@code DATETIME(6)} and a PostgreSQL {@code timestamp}, a {@code decimal(12,2)} and a {@code numeric}, a
 * {@code tinyint(1)} and a {@code boolean} holding the same value encode the same — and a row's hash is the first
 * 64 bits of the SHA-256 of its encoded values. A range's checksum is the sum of its rows' hashes modulo 2^64
 * (order-independent, so neither side sorts). Keys are encoded the same way, so the two sides' keys match whatever
 * text form each engine prints.
 * <p>The canonical forms: integers in decimal; decimals without trailing zeros ({@code 12.50} → {@code 12.5});
 * {@code real} / MySQL {@code FLOAT} as a float, other floating types as a double (Java's shortest round-trip
 * text); booleans {@code t}/{@code f} ({@code BIT(1)} and {@code tinyint(1)} included); dates, times and
 * timestamps in ISO 8601, a timestamp with a time zone as its UTC time (so PostgreSQL {@code timestamptz} compares
 * with a MySQL {@code DATETIME} holding UTC, as migrations map them); bytes as {@code \x} and hex; a bit string of
 * more than one bit as its binary digits. Per column pair,
 * from both sides' declared types: a fixed-width {@code char(n)} on either side is compared without trailing
 * spaces (PostgreSQL pads them, MySQL strips them), JSON on either side is compared parsed with its keys sorted,
 * a {@code uuid} on either side in lower case, a single-precision float on either side as a float (MySQL prints a
 * {@code FLOAT} with 6 digits only, so its reader selects it as a double, exact, which this rounds back), a MySQL
 * {@code TIME} or a PostgreSQL {@code interval} on either side as a signed span ({@link #duration}), a MySQL
 * {@code tinyint(1)} (which its reader returns as a number) against a boolean as t/f — and against a smallint (a
 * type chosen in {@code schema.columns}) as the number it is, a MySQL {@code SET} against a {@code text[]} as the
 * array. A repair writes the values as read, before this normalisation ({@link Row#written}): the target then gets
 * the source's own text (JSON as written), which either engine reads back as the same value.
 */
public final class CanonicalChecksums implements Checksums {
    /** How a column pair's values are normalised beyond their JDBC type. */
    public enum Norm {
        AS_READ, TRIM_PAD, JSON, LOWER, FLOAT4, DURATION, BOOLEAN,
        /** A MySQL SET against a PostgreSQL {@code text[]}: the members as PostgreSQL prints the array. */
        SET_ARRAY
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ISO_LOCAL_DATE_TIME;
    private static final HexFormat HEX = HexFormat.of();
    /** A MySQL time type's name: {@code time} or {@code time(n)} (not {@code timestamp}). */
    private static final Pattern TIME = Pattern.compile("time(\\(\\d\\))?");
    /** [N day[s]] [-]H:MM[:SS[.f]] */
    private static final Pattern SPAN = Pattern.compile(
            "(?:([-+]?\\d+) days? )?(-)?(\\d+):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,6}))?)?");

    private final RowReader reader;
    private final Map<TableRef, Map<String, Norm>> norms;

    /** @param norms per table of this side, the normalisation of each column (absent: as read) */
    public CanonicalChecksums(RowReader reader, Map<TableRef, Map<String, Norm>> norms) {
        this.reader = reader;
        this.norms = Map.copyOf(norms);
    }

    /** The normalisations a pair of tables needs, from both sides' declared column types. */
    public static Map<String, Norm> norms(TableInfo source, TableInfo target, List<String> columns) {
        Map<String, Norm> out = new LinkedHashMap<>();
        for (String c : columns) {
            List<String> types = Stream.of(source.column(c), target.column(c)).flatMap(Optional::stream)
                    .map(ColumnInfo::nativeType).map(t -> t.toLowerCase(Locale.ROOT)).toList();
            if (types.stream().anyMatch(t -> t.startsWith("json"))) {
                out.put(c, Norm.JSON);
            } else if (types.contains("uuid")) {
                out.put(c, Norm.LOWER);
            } else if (types.stream().anyMatch(t -> t.equals("real") || t.equals("float4") || t.equals("float")
                    || t.startsWith("float(") && !t.startsWith("float(53"))) {
                out.put(c, Norm.FLOAT4);
            } else if (types.stream().anyMatch(t -> t.equals("interval") || TIME.matcher(t).matches())) {
                out.put(c, Norm.DURATION);
            } else if (types.stream().anyMatch(t -> t.startsWith("set(")) && types.contains("text[]")) {
                out.put(c, Norm.SET_ARRAY);
            } else if (types.contains("tinyint(1)") && types.stream().anyMatch(t -> t.equals("boolean")
                    || t.equals("bool"))) {
                out.put(c, Norm.BOOLEAN);
            } else if (types.stream().anyMatch(t -> t.equals("bpchar") || t.startsWith("character(")
                    || t.startsWith("char(") || t.equals("character") || t.equals("char"))) {
                out.put(c, Norm.TRIM_PAD);
            }
        }
        return out;
    }

    @Override
    public RangeChecksum checksum(Connection c, TableInfo table, List<String> columns, KeyRange range)
            throws SQLException {
        Encoder e = new Encoder(table, List.of(), columns);
        long[] rows = {0};
        long[] sum = {0};
        reader.rows(c, table, columns, range, rs -> {
            rows[0]++;
            sum[0] += e.hash(rs); // modulo 2^64: the same on both sides, in any order
        });
        return new RangeChecksum(rows[0], Long.toUnsignedString(sum[0]));
    }

    @Override
    public void rowHashes(Connection c, TableInfo table, List<String> columns, KeyRange range, RowHashSink sink)
            throws SQLException {
        List<String> key = keyNames(table);
        Encoder e = new Encoder(table, key, columns);
        reader.rows(c, table, concat(key, columns), range, rs -> sink.accept(e.key(rs), e.hash(rs)));
    }

    @Override
    public void hashesOf(Connection c, TableInfo table, List<String> columns, List<List<String>> keys,
                         RowHashSink sink) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        List<String> key = keyNames(table);
        Encoder e = new Encoder(table, key, columns);
        reader.rowsByKey(c, table, concat(key, columns), keys, rs -> sink.accept(e.key(rs), e.hash(rs)));
    }

    @Override
    public Optional<Row> row(Connection c, TableInfo table, List<String> columns, List<String> key)
            throws SQLException {
        Encoder e = new Encoder(table, List.of(), columns);
        Row[] out = {null};
        reader.rowsByKey(c, table, columns, List.of(key), rs -> {
            List<String> read = e.read(rs);
            List<String> values = e.normalised(read);
            out[0] = new Row(e.hash(values), values, e.written(read, values));
        });
        return Optional.ofNullable(out[0]);
    }

    private static List<String> keyNames(TableInfo table) {
        return table.keyColumns().stream().map(KeyColumn::name).toList();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /**
     * Encodes the rows of one result: {@code keys} first, then {@code columns}. The JDBC types are read from the
     * first row's metadata.
     */
    private final class Encoder {
        private final List<String> keys;
        private final List<String> columns;
        private final Map<String, Norm> norm;
        private final MessageDigest sha;
        private int[] types;
        private String[] typeNames;

        Encoder(TableInfo table, List<String> keys, List<String> columns) {
            this.keys = keys;
            this.columns = columns;
            this.norm = norms.getOrDefault(table.ref(), Map.of());
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
        }

        List<String> key(ResultSet rs) throws SQLException {
            List<String> out = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                out.add(value(rs, i + 1, keys.get(i)));
            }
            return out;
        }

        List<String> values(ResultSet rs) throws SQLException {
            List<String> out = new ArrayList<>(columns.size());
            for (int i = 0; i < columns.size(); i++) {
                out.add(value(rs, keys.size() + i + 1, columns.get(i)));
            }
            return out;
        }

        /** The columns' values in their canonical text, not normalised for the other side. */
        List<String> read(ResultSet rs) throws SQLException {
            List<String> out = new ArrayList<>(columns.size());
            for (int i = 0; i < columns.size(); i++) {
                out.add(canonical(rs, keys.size() + i + 1));
            }
            return out;
        }

        /**
         * What a repair writes: the values as read, but a SET's members as the array the other side holds (the one
         * normalisation that is a form both sides read, not a loss).
         */
        List<String> written(List<String> read, List<String> normalised) {
            List<String> out = new ArrayList<>(read);
            for (int i = 0; i < out.size(); i++) {
                if (norm.get(columns.get(i)) == Norm.SET_ARRAY) {
                    out.set(i, normalised.get(i));
                }
            }
            return out;
        }

        /** {@link #read} values normalised for the comparison. */
        List<String> normalised(List<String> read) {
            List<String> out = new ArrayList<>(read.size());
            for (int i = 0; i < read.size(); i++) {
                out.add(normalise(read.get(i), columns.get(i)));
            }
            return out;
        }

        long hash(ResultSet rs) throws SQLException {
            return hash(values(rs));
        }

        /** Each value as a presence byte, its length and its UTF-8 bytes: no two different rows encode alike. */
        long hash(List<String> values) {
            sha.reset();
            for (String v : values) {
                if (v == null) {
                    sha.update((byte) 0);
                    continue;
                }
                byte[] b = v.getBytes(StandardCharsets.UTF_8);
                sha.update((byte) 1);
                sha.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8),
                        (byte) b.length});
                sha.update(b);
            }
            byte[] d = sha.digest();
            long h = 0;
            for (int i = 0; i < 8; i++) {
                h = h << 8 | (d[i] & 0xff);
            }
            return h;
        }

        private String value(ResultSet rs, int i, String column) throws SQLException {
            return normalise(canonical(rs, i), column);
        }

        private String canonical(ResultSet rs, int i) throws SQLException {
            if (types == null) {
                ResultSetMetaData md = rs.getMetaData();
                types = new int[md.getColumnCount() + 1];
                typeNames = new String[types.length];
                for (int k = 1; k < types.length; k++) {
                    types[k] = md.getColumnType(k);
                    typeNames[k] = String.valueOf(md.getColumnTypeName(k)).toLowerCase(Locale.ROOT);
                }
            }
            return CanonicalChecksums.canonical(rs, i, types[i], typeNames[i]);
        }

        private String normalise(String v, String column) {
            if (v == null) {
                return null;
            }
            return switch (norm.getOrDefault(column, Norm.AS_READ)) {
                case TRIM_PAD -> v.stripTrailing();
                case JSON -> json(v);
                case LOWER -> v.stripTrailing().toLowerCase(Locale.ROOT);
                case FLOAT4 -> float4(v);
                case DURATION -> duration(v);
                case BOOLEAN -> v.equals("1") ? "t" : v.equals("0") ? "f" : v;
                case SET_ARRAY -> v.startsWith("{") && v.endsWith("}") ? v
                        : PgArrays.format(v.isEmpty() ? List.of() : List.of(v.split(",", -1)));
                case AS_READ -> v;
            };
        }
    }

    /** One value in its canonical text, or null for SQL NULL. */
    static String canonical(ResultSet rs, int i, int type, String typeName) throws SQLException {
        switch (type) {
            case Types.BOOLEAN, Types.BIT -> {
                if (type == Types.BIT && typeName.contains("bit") && rs.getMetaData().getPrecision(i) > 1) {
                    return rs.getString(i); // a bit string's binary digits
                }
                boolean b = rs.getBoolean(i);
                return rs.wasNull() ? null : b ? "t" : "f";
            }
            case Types.DECIMAL, Types.NUMERIC -> {
                String text = rs.getString(i);
                if (text == null) {
                    return null;
                }
                try {
                    BigDecimal d = new BigDecimal(text.trim());
                    return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
                } catch (NumberFormatException e) {
                    return text; // NaN, Infinity
                }
            }
            case Types.REAL -> {
                float f = rs.getFloat(i);
                return rs.wasNull() ? null : Float.toString(f);
            }
            case Types.FLOAT, Types.DOUBLE -> {
                double d = rs.getDouble(i);
                return rs.wasNull() ? null : Double.toString(d);
            }
            case Types.DATE -> {
                return temporal(rs, i, () -> rs.getObject(i, LocalDate.class).toString());
            }
            case Types.TIME, Types.TIME_WITH_TIMEZONE -> {
                return temporal(rs, i, () -> rs.getObject(i, LocalTime.class).toString());
            }
            case Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE -> {
                if (type == Types.TIMESTAMP_WITH_TIMEZONE || typeName.equals("timestamptz")) {
                    return temporal(rs, i, () -> TIMESTAMP.format(rs.getObject(i, OffsetDateTime.class)
                            .withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime()));
                }
                return temporal(rs, i, () -> TIMESTAMP.format(rs.getObject(i, LocalDateTime.class)));
            }
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> {
                byte[] b = rs.getBytes(i);
                return b == null ? null : "\\x" + HEX.formatHex(b);
            }
            default -> {
                return rs.getString(i);
            }
        }
    }

    private interface Read {
        String get() throws SQLException;
    }

    /** A date/time value; one Java cannot hold (PostgreSQL infinity, MySQL zero dates) as the database prints it. */
    private static String temporal(ResultSet rs, int i, Read read) throws SQLException {
        String text = rs.getString(i);
        if (text == null) {
            return null;
        }
        try {
            return read.get();
        } catch (SQLException | RuntimeException e) {
            return text;
        }
    }

    /**
     * A span of hours, minutes and seconds — a MySQL {@code TIME} (which may be negative or beyond 24 h), the
     * PostgreSQL {@code interval} it maps to, or a time of day — as {@code [-]H:MM:SS.ffffff}. PostgreSQL prints an
     * interval's fraction without trailing zeros and may count whole days ({@code 1 day 02:00:00}); Java prints a time
     * of day without zero seconds ({@code 12:00}). An interval of months or years, which no TIME holds, stays as it
     * was printed.
     */
    static String duration(String text) {
        Matcher m = SPAN.matcher(text.trim());
        if (!m.matches()) {
            return text;
        }
        long days = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
        String frac = m.group(6) == null ? "" : m.group(6);
        long micros = ((Long.parseLong(m.group(3)) * 60 + Long.parseLong(m.group(4))) * 60
                + (m.group(5) == null ? 0 : Long.parseLong(m.group(5)))) * 1_000_000L
                + Long.parseLong((frac + "000000").substring(0, 6));
        long total = days * 86_400_000_000L + (m.group(2) == null ? micros : -micros);
        long abs = Math.abs(total);
        long seconds = abs / 1_000_000L;
        return String.format(Locale.ROOT, "%s%d:%02d:%02d.%06d", total < 0 ? "-" : "", seconds / 3600,
                seconds / 60 % 60, seconds % 60, abs % 1_000_000L);
    }

    /** A single-precision value, whichever precision it was read in. */
    private static String float4(String text) {
        try {
            return Float.toString(Float.parseFloat(text));
        } catch (NumberFormatException e) {
            return text;
        }
    }

    private static String json(String text) {
        try {
            return JSON.writeValueAsString(JSON.readValue(text, Object.class));
        } catch (JsonProcessingException e) {
            return text; // not JSON: compared as text
        }
    }
}
