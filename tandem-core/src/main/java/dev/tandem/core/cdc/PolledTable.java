package dev.tandem.core.cdc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDateTime;
import java.util.HexFormat;
import java.util.List;

/**
 * One table as a timestamp-column poller reads it: its copied columns, key, where the timestamp column and the key
 * columns sit in a row, and its watermark (the newest timestamp seen), kept in the stream's offsets. With the quoting
 * the poller's SQL uses on either side.
 */
final class PolledTable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final TableInfo info;
    final String name;
    final TableRef targetRef;
    final List<String> columns;
    final List<String> keys;
    final int timestampAt;
    final int[] keyAt;
    Timestamp watermark;

    PolledTable(TableInfo info, TableRef targetRef, String column) {
        this.info = info;
        this.name = info.ref().qualified();
        this.targetRef = targetRef;
        this.columns = info.copiedColumns();
        this.keys = info.keyColumns().stream().map(KeyColumn::name).toList();
        if (keys.isEmpty()) {
            throw new IllegalStateException("table " + name + " has no primary key or non-null unique key; a "
                    + "timestamp-column stream needs one to apply and to find deletes");
        }
        this.timestampAt = columns.indexOf(column);
        if (timestampAt < 0) {
            throw new IllegalStateException("table " + name + " has no column " + column
                    + " (cdc.timestamp_column)");
        }
        this.keyAt = keys.stream().mapToInt(columns::indexOf).toArray();
    }

    static String quote(Connection c) throws SQLException {
        String q = c.getMetaData().getIdentifierQuoteString();
        return q == null || q.isBlank() ? "\"" : q.trim();
    }

    static String q(String quote, String name) {
        return quote + name.replace(quote, quote + quote) + quote;
    }

    static String cols(String quote, List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(q(quote, n));
        }
        return sb.toString();
    }

    static String table(String quote, TableRef ref) {
        return (ref.schema() == null || ref.schema().isEmpty() ? "" : q(quote, ref.schema()) + ".")
                + q(quote, ref.name());
    }

    /** A column's value as the apply side's text input: bytes as {@code \x} hex, the rest as the driver's text. */
    static String text(ResultSet rs, int i, int jdbcType) throws SQLException {
        switch (jdbcType) {
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> {
                byte[] b = rs.getBytes(i);
                return b == null ? null : "\\x" + HexFormat.of().formatHex(b);
            }
            default -> {
                return rs.getString(i);
            }
        }
    }

    /** The tables' watermarks as a stream's offsets: {"watermarks": {table: ISO local date-time or null}}. */
    static String watermarks(List<PolledTable> tables) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode w = root.putObject("watermarks");
        for (PolledTable t : tables) {
            if (t.watermark == null) {
                w.putNull(t.name);
            } else {
                w.put(t.name, t.watermark.toLocalDateTime().toString());
            }
        }
        return root.toString();
    }

    /** Sets each table's watermark from stored offsets ({@link #watermarks}); a table not in them has none. */
    static void readWatermarks(String offsets, List<PolledTable> tables, String streamName) {
        JsonNode root;
        try {
            root = JSON.readTree(offsets).path("watermarks");
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the stored offsets of " + streamName + " are not readable: "
                    + e.getMessage(), e);
        }
        for (PolledTable t : tables) {
            JsonNode w = root.get(t.name);
            t.watermark = w == null || w.isNull() ? null : Timestamp.valueOf(LocalDateTime.parse(w.asText()));
        }
    }
}
