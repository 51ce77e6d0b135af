package dev.tandem.postgres;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's PostgreSQL records as Tandem changes, for one stream: its tables' rows (values as PostgreSQL's text
 * form, {@link PgValueText}), commits (with {@code provide.transaction.metadata}), heartbeats and Tandem's fences.
 * What a table's records look like is worked out once per table and row schema, not per record.
 */
final class PgChangeRecords {
    /** pg_logical_emit_message prefix of Tandem's fences: their content is the marker. */
    static final String FENCE_PREFIX = "tandem";
    /** pg_logical_emit_message prefix of heartbeats (and of the wake-up message before a restart). */
    static final String HEARTBEAT = "tandem-heartbeat";
    /** Debezium's stand-in for a TOAST value the change did not carry ({@code unavailable.value.placeholder}). */
    static final String UNCHANGED = "__tandem_unchanged_toast__";

    private final String transactionTopic;
    private final Shapes shapes;

    /**
     * @param topicPrefix Debezium's {@code topic.prefix} for the stream (the start of every record's topic)
     * @param tables      the stream's tables
     */
    PgChangeRecords(String topicPrefix, Map<TableRef, TableInfo> tables) {
        this.transactionTopic = topicPrefix + ".transaction";
        this.shapes = new Shapes(tables);
    }

    /**
     * One Debezium record as changes, added to {@code out}: a row change is preceded by a {@link Change.Kind#SCHEMA}
     * change when it is its table's first in this stream or its row shape differs from the one before (Debezium
     * reads the new shape from pgoutput's Relation message, which comes before the first change after DDL).
     */
    void convert(SourceRecord r, List<Change> out) {
        Change c = convert(r);
        if (c == null) {
            return;
        }
        if (c.kind() == Change.Kind.UPSERT || c.kind() == Change.Kind.PARTIAL_UPDATE) {
            TableShape shape = shapes.byName(c.table());
            if (shape != null && shape.row != null && shape.row != shape.announced) {
                List<String> names = shape.row.names;
                if (shape.announced == null || !shape.announced.names.equals(names)
                        || !shape.announced.sourceTypes.equals(shape.row.sourceTypes)) {
                    out.add(Change.schema(c.table(), names, c.position(), c.committedAt()));
                }
                shape.announced = shape.row;
            }
        }
        out.add(c);
    }

    /** One Debezium record as a change; null for records that carry nothing to apply and no position. */
    private Change convert(SourceRecord r) {
        String position = position(r);
        if (r.value() == null) {
            return null;
        }
        Struct value = (Struct) r.value();
        if (r.topic().startsWith("__debezium-heartbeat")) {
            return Change.marker(position, null, null);
        }
        String txStatus = transactionStatus(r);
        if (txStatus != null) {
            if (!txStatus.equals("END")) {
                return null;
            }
            Object ms = value.schema().field("ts_ms") == null ? null : value.get("ts_ms");
            return Change.commit(position, ms instanceof Number n ? Instant.ofEpochMilli(n.longValue()) : null);
        }
        Struct source = value.schema().field("source") == null ? null : value.getStruct("source");
        Instant committed = source == null ? null : commitTime(source);
        String op = value.schema().field("op") == null ? null : value.getString("op");
        if ("m".equals(op)) {
            Struct m = value.getStruct("message");
            String prefix = m.getString("prefix");
            byte[] content = m.getBytes("content");
            String marker = FENCE_PREFIX.equals(prefix) && content != null
                    ? new String(content, StandardCharsets.UTF_8) : null;
            return Change.marker(position, committed, marker);
        }
        TableShape shape = source == null || op == null ? null : shapes.of(source);
        if (shape == null) {
            return Change.marker(position, committed, null);
        }
        return switch (op) {
            case "t" -> new Change(Change.Kind.TRUNCATE, shape.name, List.of(), List.of(), List.of(), position,
                    committed, null);
            case "d" -> new Change(Change.Kind.DELETE, shape.name, shape.key(value.getStruct("before")), List.of(),
                    List.of(), position, committed, null);
            case "c", "r", "u" -> rowChange(shape, value.getStruct("after"), position, committed);
            default -> Change.marker(position, committed, null);
        };
    }

    /**
     * An insert or update: the whole row, or (when TOAST values did not change and so were not sent) only the columns
     * that came.
     */
    private static Change rowChange(TableShape shape, Struct after, String position, Instant committed) {
        RowShape row = shape.row(after.schema());
        String[] vals = new String[row.fields.length];
        boolean[] absent = null;
        for (int i = 0; i < vals.length; i++) {
            Object v = after.get(row.fields[i]);
            if (unchanged(v)) {
                absent = absent == null ? new boolean[vals.length] : absent;
                absent[i] = true;
            } else {
                vals[i] = PgValueText.text(row.fields[i].schema(), v, row.types[i]);
            }
        }
        List<String> key = shape.key(after);
        if (absent == null) {
            return new Change(Change.Kind.UPSERT, shape.name, key, row.names, Arrays.asList(vals), position,
                    committed, null);
        }
        List<String> cols = new ArrayList<>(vals.length);
        List<String> present = new ArrayList<>(vals.length);
        for (int i = 0; i < vals.length; i++) {
            if (!absent[i]) {
                cols.add(row.names.get(i));
                present.add(vals[i]);
            }
        }
        return new Change(Change.Kind.PARTIAL_UPDATE, shape.name, key, cols, present, position, committed, null);
    }

    /**
     * The tables of a stream by the (schema, table) each record's own source block names, each with what converting
     * its rows needs, computed once. Never by topic: Debezium folds characters a topic may not hold, so
     * {@code x;y} and {@code x_y}, or two non-ASCII names of equal length, share one.
     */
    private static final class Shapes {
        private final Map<TableRef, TableInfo> tables;
        private final Map<TableRef, TableShape> byTable = new HashMap<>();
        private final Map<String, TableShape> byName = new HashMap<>();

        /** A table's shape by its qualified name, once a record of it was seen. */
        TableShape byName(String qualified) {
            return byName.get(qualified);
        }

        Shapes(Map<TableRef, TableInfo> tables) {
            this.tables = tables;
        }

        /** The shape of the record's table, or null when the migration does not move it. */
        TableShape of(Struct source) {
            TableRef ref = new TableRef(source.getString("schema"), source.getString("table"));
            TableShape s = byTable.get(ref);
            if (s == null && !byTable.containsKey(ref)) {
                TableInfo info = tables.get(ref);
                s = info == null ? null : new TableShape(ref.qualified(), info);
                byTable.put(ref, s);
                if (s != null) {
                    byName.put(s.name, s);
                }
            }
            return s;
        }
    }

    /** One table: its key columns and column types (lower case), and the row layout of its latest schema. */
    private static final class TableShape {
        final String name;
        final TableInfo info;
        private final List<KeyColumn> keys;
        private final String[] keyTypes;
        private final Map<String, String> types = new HashMap<>();
        private RowShape row;
        /** The row shape the stream last sent a {@link Change.Kind#SCHEMA} change for. */
        private RowShape announced;

        TableShape(String name, TableInfo info) {
            this.name = name;
            this.info = info;
            this.keys = info.keyColumns();
            this.keyTypes = keys.stream().map(k -> lower(k.type())).toArray(String[]::new);
            for (ColumnInfo c : info.columns()) {
                types.put(c.name(), lower(c.nativeType()));
            }
        }

        RowShape row(org.apache.kafka.connect.data.Schema schema) {
            RowShape r = row;
            if (r == null || r.schema != schema) {
                r = new RowShape(schema, types);
                row = r;
            }
            return r;
        }

        List<String> key(Struct row) {
            if (row == null) {
                throw new IllegalStateException("a change of " + info.ref() + " came without its key values; the "
                        + "table's replica identity must include its key: ALTER TABLE " + info.ref() + " REPLICA "
                        + "IDENTITY DEFAULT (with a primary key) or USING INDEX <unique index>");
            }
            String[] out = new String[keys.size()];
            for (int i = 0; i < out.length; i++) {
                Field f = row.schema().field(keys.get(i).name());
                if (f == null) {
                    throw new IllegalStateException("a change of " + info.ref() + " lacks key column "
                            + keys.get(i).name() + "; set the table's replica identity to its key: ALTER TABLE "
                            + info.ref() + " REPLICA IDENTITY USING INDEX <unique index on the key> (or FULL)");
                }
                out[i] = PgValueText.text(f.schema(), row.get(f), keyTypes[i]);
            }
            return Arrays.asList(out);
        }

        private static String lower(String s) {
            return s == null ? "" : s.toLowerCase(Locale.ROOT);
        }
    }

    /** The layout of one Debezium row schema: its fields, their names (shared by every change) and column types. */
    private static final class RowShape {
        final org.apache.kafka.connect.data.Schema schema;
        final Field[] fields;
        final List<String> names;
        final String[] types;
        /** Each field's source type as Debezium read it from the Relation message (name, length, scale). */
        final List<String> sourceTypes;

        RowShape(org.apache.kafka.connect.data.Schema schema, Map<String, String> columnTypes) {
            this.schema = schema;
            this.fields = schema.fields().toArray(Field[]::new);
            this.names = Arrays.stream(fields).map(Field::name).toList();
            this.types = Arrays.stream(fields).map(f -> columnTypes.getOrDefault(f.name(), "")).toArray(String[]::new);
            this.sourceTypes = Arrays.stream(fields).map(f -> f.schema().type() + "/" + f.schema().name() + "/"
                    + f.schema().parameters()).toList();
        }
    }

    private static boolean unchanged(Object v) {
        if (v instanceof String s) {
            return s.equals(UNCHANGED);
        }
        if (v instanceof byte[] b) {
            return b.length == UNCHANGED.length() && new String(b, StandardCharsets.UTF_8).equals(UNCHANGED);
        }
        if (v instanceof java.nio.ByteBuffer bb) {
            return bb.remaining() == UNCHANGED.length()
                    && StandardCharsets.UTF_8.decode(bb.duplicate()).toString().equals(UNCHANGED);
        }
        if (v instanceof List<?> l) {
            return l.size() == 1 && unchanged(l.get(0));
        }
        return false;
    }

    /** BEGIN or END for a transaction metadata record (provide.transaction.metadata), else null. */
    String transactionStatus(SourceRecord r) {
        if (!r.topic().equals(transactionTopic) || !(r.value() instanceof Struct v)
                || v.schema().field("status") == null) {
            return null;
        }
        return v.getString("status");
    }

    private static String position(SourceRecord r) {
        Object lsn = r.sourceOffset() == null ? null : r.sourceOffset().get("lsn");
        return lsn instanceof Number n ? Lsn.format(n.longValue()) : null;
    }

    private static Instant commitTime(Struct source) {
        if (source.schema().field("ts_us") != null && source.get("ts_us") != null) {
            long us = source.getInt64("ts_us");
            return Instant.ofEpochSecond(Math.floorDiv(us, 1_000_000L), Math.floorMod(us, 1_000_000L) * 1000L);
        }
        Object ms = source.get("ts_ms");
        return ms instanceof Number n ? Instant.ofEpochMilli(n.longValue()) : null;
    }
}
