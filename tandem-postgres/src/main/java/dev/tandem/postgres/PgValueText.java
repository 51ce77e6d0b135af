package dev.tandem.postgres;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Turns a value Debezium decoded from pgoutput back into PostgreSQL's text input for the column, so the apply side
 * can load it with COPY: the inverse of the connector's settings chosen in {@link PostgresChangeCapture}
 * ({@code decimal.handling.mode=string}, {@code interval.handling.mode=string},
 * {@code time.precision.mode=adaptive_time_microseconds}, {@code binary.handling.mode=bytes},
 * {@code hstore.handling.mode=map}, unknown types as their text). The source column's type decides where Debezium's
 * representation is ambiguous (bytes: bytea, bit string or an unknown type's text).
 */
final class PgValueText {
    private PgValueText() {
    }

    static String of(Schema schema, Object value, String sourceType) {
        return text(schema, value, sourceType == null ? "" : sourceType.toLowerCase(Locale.ROOT));
    }

    /** As {@link #of}, with the source type already in lower case ("" when unknown). */
    static String text(Schema schema, Object value, String type) {
        if (value == null) {
            return null;
        }
        String logical = schema == null || schema.name() == null ? null : logical(schema, value);
        if (logical != null) {
            return logical;
        }
        if (value instanceof Boolean b) {
            return type.startsWith("bit") ? (b ? "1" : "0") : (b ? "t" : "f");
        }
        if (value instanceof byte[] || value instanceof ByteBuffer) {
            byte[] b = bytes(value);
            if (type.equals("bytea")) {
                return "\\x" + HexFormat.of().formatHex(b);
            }
            return new String(b, StandardCharsets.UTF_8); // an unknown type, sent as its text
        }
        if (value instanceof List<?> list) {
            Schema element = schema == null ? null : schema.valueSchema();
            String elementType = type.endsWith("[]") ? type.substring(0, type.length() - 2)
                    : type.startsWith("_") ? type.substring(1) : type;
            StringBuilder sb = new StringBuilder("{");
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                String s = of(element, list.get(i), elementType);
                if (s == null) {
                    sb.append("NULL");
                } else {
                    sb.append('"').append(s.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
                }
            }
            return sb.append('}').toString();
        }
        if (value instanceof Map<?, ?> map) { // hstore
            StringBuilder sb = new StringBuilder();
            for (var e : map.entrySet()) {
                if (!sb.isEmpty()) {
                    sb.append(", ");
                }
                sb.append(hstoreQuote(String.valueOf(e.getKey()))).append("=>")
                        .append(e.getValue() == null ? "NULL" : hstoreQuote(String.valueOf(e.getValue())));
            }
            return sb.toString();
        }
        if (value instanceof Double d) {
            return doubleText(d);
        }
        if (value instanceof Float f) {
            return f.isNaN() ? "NaN" : f.isInfinite() ? (f > 0 ? "Infinity" : "-Infinity") : f.toString();
        }
        return value.toString();
    }

    /** A value of one of Debezium's logical types (dates, times, bits, points) as text; null for any other. */
    private static String logical(Schema schema, Object value) {
        switch (schema.name()) {
            case "io.debezium.time.Date":
                return LocalDate.ofEpochDay(((Number) value).longValue()).toString();
            case "io.debezium.time.Time":
                return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000_000L).toString();
            case "io.debezium.time.MicroTime":
                return LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000L).toString();
            case "io.debezium.time.NanoTime":
                return LocalTime.ofNanoOfDay(((Number) value).longValue()).toString();
            case "io.debezium.time.Timestamp":
                return timestamp(Math.floorDiv(((Number) value).longValue(), 1000L),
                        Math.floorMod(((Number) value).longValue(), 1000L) * 1_000_000L);
            case "io.debezium.time.MicroTimestamp":
                return timestamp(Math.floorDiv(((Number) value).longValue(), 1_000_000L),
                        Math.floorMod(((Number) value).longValue(), 1_000_000L) * 1_000L);
            case "io.debezium.time.NanoTimestamp":
                return timestamp(Math.floorDiv(((Number) value).longValue(), 1_000_000_000L),
                        Math.floorMod(((Number) value).longValue(), 1_000_000_000L));
            case "io.debezium.data.Bits":
                return bits((byte[]) bytes(value), Integer.parseInt(schema.parameters().getOrDefault("length",
                        "0")));
            case "io.debezium.data.geometry.Point":
                Struct p = (Struct) value;
                return "(" + p.getFloat64("x") + "," + p.getFloat64("y") + ")";
            default:
                return null;
        }
    }

    private static String doubleText(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        return Double.toString(d);
    }

    private static String timestamp(long seconds, long nanos) {
        return LocalDateTime.ofInstant(Instant.ofEpochSecond(seconds, nanos), ZoneOffset.UTC).toString();
    }

    private static byte[] bytes(Object value) {
        if (value instanceof ByteBuffer bb) {
            byte[] b = new byte[bb.remaining()];
            bb.duplicate().get(b);
            return b;
        }
        return (byte[]) value;
    }

    /** Debezium's bit strings: BitSet bytes, bit 0 the rightmost bit of the string. */
    private static String bits(byte[] b, int length) {
        BitSet set = BitSet.valueOf(b);
        int n = length > 0 ? length : Math.max(1, set.length());
        StringBuilder sb = new StringBuilder(n);
        for (int i = n - 1; i >= 0; i--) {
            sb.append(set.get(i) ? '1' : '0');
        }
        return sb.toString();
    }

    private static String hstoreQuote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
