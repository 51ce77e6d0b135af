package dev.tandem.postgres;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL logical replication: a publication for the migrated tables and a pgoutput slot, both named after the
 * stream, created before the first chunk is copied (P0 = the slot's starting point). Streaming runs the Debezium
 * embedded engine on that slot with no snapshot of its own (the backfill is Tandem's), Kafka Connect records
 * (no JSON round trip), offsets in Tandem's store ({@link StoreOffsetBackingStore}); the slot's flush LSN moves
 * when Debezium commits offsets, which it does only for records the sink returned from (after the target commit).
 * <p>Heartbeats: every heartbeat interval Debezium runs {@code pg_logical_emit_message} on the source; the message
 * comes back through the slot as a change like any other, so an idle source's slot still moves (no WAL retained
 * for other databases' writes). The same messages make fences: a marker written now is delivered after every change
 * committed before it. They are not transactional (a transactional message per heartbeat and fence measured ~50 %
 * slower catch-up in SourceTransactionsIT). But Debezium, restarting from a stored position, searches the log for the
 * first transaction past it, and non-transactional messages never end that search: a restart on an idle source
 * hung there until a real write came. So every restart writes one empty transactional message first ({@link #wake}).
 */
final class PostgresChangeCapture implements ChangeCapture {
    private static final Logger log = LoggerFactory.getLogger(PostgresChangeCapture.class);
    /** pg_logical_emit_message prefix of fences and heartbeats. */
    static final String PREFIX = "tandem";
    static final String HEARTBEAT = "tandem-heartbeat";
    private static final String UNCHANGED = "__tandem_unchanged_toast__";
    private static final String TOPIC = "tandem";
    private static final String TRANSACTION_TOPIC = TOPIC + ".transaction";

    private final Endpoint endpoint;

    PostgresChangeCapture(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public String positionKind() {
        return "lsn";
    }

    @Override
    public String open(Connection c, String streamName, List<TableRef> tables) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            boolean madePublication = false;
            if (!exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", streamName)) {
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE PUBLICATION " + PgIdent.quote(streamName) + " FOR TABLE "
                            + tables.stream().map(PgSql::table).collect(Collectors.joining(", ")));
                }
                madePublication = true;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                    + "WHERE slot_name = ?")) {
                ps.setString(1, streamName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return rs.getString(1);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
                ps.setString(1, streamName);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getString(1);
                }
            } catch (SQLException e) {
                if (madePublication) {
                    try (Statement st = c.createStatement()) {
                        st.execute("DROP PUBLICATION IF EXISTS " + PgIdent.quote(streamName));
                    } catch (SQLException ignored) {
                        // the first error is the one to report
                    }
                }
                throw e;
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }

    @Override
    public void drop(Connection c, String streamName) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            for (int attempt = 0; ; attempt++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) "
                        + "FROM pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, streamName);
                    ps.execute();
                    break;
                } catch (SQLException e) {
                    // 55006: the slot is still in use by a stream that is shutting down
                    if (!"55006".equals(e.getSQLState()) || attempt >= 30) {
                        throw e;
                    }
                    sleep(1000);
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("DROP PUBLICATION IF EXISTS " + PgIdent.quote(streamName));
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /**
     * One transaction past any stored position, so that Debezium's search for where to resume ends even when the
     * source is idle (its heartbeats and our fences are non-transactional messages, which the search passes over).
     * Best effort: a source that refuses it will refuse the stream too, with a clearer error.
     */
    private void wake() {
        try (Connection c = dev.tandem.core.spi.Connections.open(endpoint, endpoint.url(),
                Map.of("ApplicationName", "tandem", "connectTimeout", "10"));
             Statement st = c.createStatement()) {
            st.execute("SELECT pg_logical_emit_message(true, '" + HEARTBEAT + "', 'start')");
        } catch (SQLException e) {
            log.warn("cannot write the stream's start marker: {}", endpoint.scrub(e.getMessage()));
        }
    }

    /**
     * A non-transactional message is not flushed by itself: the WAL sender streams only flushed WAL, so without the
     * flush argument (PostgreSQL 17+) the fence waited for the WAL writer, up to wal_writer_delay (200 ms by default)
     * — most of a cutover's write pause. Older servers still wait for it.
     */
    @Override
    public String fence(Connection c, String marker) throws SQLException {
        String sql = c.getMetaData().getDatabaseMajorVersion() >= 17
                ? "SELECT pg_logical_emit_message(false, ?, ?, true)::text"
                : "SELECT pg_logical_emit_message(false, ?, ?)::text";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, PREFIX);
            ps.setString(2, marker);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Override
    public Optional<String> confirmedAtSource(Connection c, String streamName) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                + "WHERE slot_name = ?")) {
            ps.setString(1, streamName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    @Override
    public String currentPosition(Connection c) throws SQLException {
        return new PostgresChangeLog().currentPosition(c);
    }

    @Override
    public long distance(String from, String to) {
        if (from == null || to == null) {
            return 0;
        }
        return Math.max(0, Lsn.parse(to) - Lsn.parse(from));
    }

    @Override
    public ChangeStream start(StreamSpec spec) {
        if (spec.offsets().load().isPresent()) {
            wake(); // a restart: Debezium searches for its position first
        }
        String offsetId = UUID.randomUUID().toString();
        StoreOffsetBackingStore.register(offsetId, spec.offsets());
        Map<String, TableInfo> tables = new HashMap<>();
        spec.tables().forEach(t -> tables.put(t.ref().qualified(), t));
        Shapes shapes = new Shapes(tables);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Stream stream = new Stream(offsetId, failure);
        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties(spec, offsetId))
                .using((success, message, error) -> {
                    if (!success && !stream.closing) {
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                        log.error("change stream {} stopped: {}", spec.streamName(), endpoint.scrub(message));
                    }
                    stream.done = true;
                })
                .notifying((List<RecordChangeEvent<SourceRecord>> records,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
                    List<Change> changes = new ArrayList<>(records.size());
                    int durable = records.size() - 1; // the last record after which no source transaction is open
                    if (spec.keepTransactions()) {
                        durable = -1;
                        for (int i = 0; i < records.size(); i++) {
                            String status = transactionStatus(records.get(i).record());
                            if (status != null) {
                                stream.inTransaction = status.equals("BEGIN");
                            }
                            if (!stream.inTransaction) {
                                durable = i;
                            }
                        }
                    }
                    for (RecordChangeEvent<SourceRecord> r : records) {
                        Change c = convert(r.record(), shapes);
                        if (c != null) {
                            changes.add(c);
                        }
                    }
                    boolean taken;
                    try {
                        taken = changes.isEmpty() || spec.sink().accept(changes);
                    } catch (InterruptedException e) {
                        throw e;
                    } catch (Exception e) {
                        failure.compareAndSet(null, e);
                        stream.closeAsync();
                        throw new InterruptedException("apply failed: " + e.getMessage());
                    }
                    if (!taken) {
                        return;
                    }
                    // Only records up to a transaction's end are confirmed; with keepTransactions the sink holds the
                    // rest applied but uncommitted, and after a restart the stream delivers that transaction again.
                    for (int i = 0; i <= durable; i++) {
                        committer.markProcessed(records.get(i));
                    }
                    committer.markBatchFinished();
                })
                .build();
        stream.engine = engine;
        stream.executor.execute(engine);
        return stream;
    }

    private Properties properties(StreamSpec spec, String offsetId) {
        URI uri = URI.create(endpoint.url().substring("jdbc:".length()));
        Properties p = new Properties();
        p.setProperty("name", spec.streamName());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", StoreOffsetBackingStore.class.getName());
        p.setProperty(StoreOffsetBackingStore.ID, offsetId);
        p.setProperty("offset.flush.interval.ms", "0");
        p.setProperty("database.hostname", uri.getHost() == null ? "localhost" : uri.getHost());
        p.setProperty("database.port", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort()));
        p.setProperty("database.dbname", uri.getPath().replaceFirst("^/", ""));
        if (endpoint.user() != null) {
            p.setProperty("database.user", endpoint.user());
        }
        if (endpoint.password() != null) {
            p.setProperty("database.password", endpoint.password().reveal());
        }
        String query = uri.getQuery();
        if (query != null) {
            for (String kv : query.split("&")) {
                String[] parts = kv.split("=", 2);
                if (parts.length == 2 && parts[0].equals("sslmode")) {
                    p.setProperty("database.sslmode", parts[1]);
                }
            }
        }
        p.setProperty("topic.prefix", TOPIC);
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", spec.streamName());
        p.setProperty("publication.name", spec.streamName());
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("table.include.list", spec.tables().stream()
                .map(t -> regex(t.ref().schema()) + "\\." + regex(t.ref().name())).collect(Collectors.joining(",")));
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("binary.handling.mode", "bytes");
        p.setProperty("hstore.handling.mode", "map");
        p.setProperty("include.unknown.datatypes", "true");
        p.setProperty("skipped.operations", "none");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("unavailable.value.placeholder", UNCHANGED);
        p.setProperty("heartbeat.interval.ms", String.valueOf(spec.heartbeat().toMillis()));
        p.setProperty("heartbeat.action.query", "SELECT pg_logical_emit_message(false, '" + HEARTBEAT + "', '')");
        p.setProperty("max.batch.size", String.valueOf(spec.maxBatch()));
        // Twice the batch: enough to read ahead while a batch applies; a longer queue only keeps more records alive
        // through young collections (measured: 4x and 8x the batch were slower in the CDC benchmark).
        p.setProperty("max.queue.size", String.valueOf(spec.maxBatch() * 2));
        // the idle wait of Debezium's reader loop and of its queue: a fence waits for both, and a cutover for a fence
        // (50 ms made the frozen sync step ~100 ms); busy streams never wait on it
        p.setProperty("poll.interval.ms", "10");
        p.setProperty("errors.max.retries", "0");
        if (spec.keepTransactions()) {
            p.setProperty("provide.transaction.metadata", "true"); // BEGIN/END records around each transaction
        }
        return p;
    }

    private static String regex(String name) {
        return name.replaceAll("([\\\\.\\[\\]{}()*+?^$|])", "\\\\$1");
    }

    /** One Debezium record as a change; null for records that carry nothing to apply and no position. */
    private Change convert(SourceRecord r, Shapes shapes) {
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
            String marker = PREFIX.equals(prefix) && content != null ? new String(content, StandardCharsets.UTF_8)
                    : null;
            return Change.marker(position, committed, marker);
        }
        if (source == null || op == null) {
            return Change.marker(position, committed, null);
        }
        TableShape shape = shapes.of(r.topic(), source);
        if (shape == null) {
            return Change.marker(position, committed, null);
        }
        switch (op) {
            case "t":
                return new Change(Change.Kind.TRUNCATE, shape.name, List.of(), List.of(), List.of(), position,
                        committed, null);
            case "d": {
                Struct before = value.getStruct("before");
                return new Change(Change.Kind.DELETE, shape.name, shape.key(before), List.of(), List.of(), position,
                        committed, null);
            }
            case "c", "r", "u": {
                Struct after = value.getStruct("after");
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
                return new Change(Change.Kind.PARTIAL_UPDATE, shape.name, key, cols, present, position, committed,
                        null);
            }
            default:
                return Change.marker(position, committed, null);
        }
    }

    /** The tables of a stream by Debezium topic, each with what converting its rows needs, computed once. */
    static final class Shapes {
        private final Map<String, TableInfo> tables;
        private final Map<String, TableShape> byTopic = new HashMap<>();

        Shapes(Map<String, TableInfo> tables) {
            this.tables = tables;
        }

        /** The shape of the record's table, or null when the migration does not move it. */
        TableShape of(String topic, Struct source) {
            TableShape s = byTopic.get(topic);
            if (s == null && !byTopic.containsKey(topic)) {
                String name = source.getString("schema") + "." + source.getString("table");
                TableInfo info = tables.get(name);
                s = info == null ? null : new TableShape(name, info);
                byTopic.put(topic, s);
            }
            return s;
        }
    }

    /** One table: its key columns and column types (lower case), and the row layout of its latest schema. */
    static final class TableShape {
        final String name;
        final TableInfo info;
        private final List<KeyColumn> keys;
        private final String[] keyTypes;
        private final Map<String, String> types = new HashMap<>();
        private RowShape row;

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
    static final class RowShape {
        final org.apache.kafka.connect.data.Schema schema;
        final Field[] fields;
        final List<String> names;
        final String[] types;

        RowShape(org.apache.kafka.connect.data.Schema schema, Map<String, String> columnTypes) {
            this.schema = schema;
            this.fields = schema.fields().toArray(Field[]::new);
            this.names = Arrays.stream(fields).map(Field::name).toList();
            this.types = Arrays.stream(fields).map(f -> columnTypes.getOrDefault(f.name(), "")).toArray(String[]::new);
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
    private static String transactionStatus(SourceRecord r) {
        if (!r.topic().equals(TRANSACTION_TOPIC) || !(r.value() instanceof Struct v)
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

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A running engine. */
    private static final class Stream implements ChangeStream {
        final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tandem-stream");
            t.setDaemon(true);
            return t;
        });
        final String offsetId;
        final AtomicReference<Throwable> failure;
        volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
        volatile boolean closing;
        volatile boolean done;
        /** keepTransactions: between a BEGIN and its END record (the engine's handler thread only). */
        boolean inTransaction;

        Stream(String offsetId, AtomicReference<Throwable> failure) {
            this.offsetId = offsetId;
            this.failure = failure;
        }

        @Override
        public boolean running() {
            return !done && failure.get() == null;
        }

        @Override
        public Optional<Throwable> failure() {
            return Optional.ofNullable(failure.get());
        }

        void closeAsync() {
            Thread t = new Thread(this::close, "tandem-stream-close");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public synchronized void close() {
            if (closing && executor.isShutdown()) {
                return;
            }
            closing = true;
            // Debezium refuses to stop while its tasks are still starting (it could leak the replication
            // connection); a stop right after start waits for them, up to 30 s. A stream that failed is not waited
            // for: its tasks may be retrying a start that cannot succeed.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    engine.close();
                    break;
                } catch (Exception e) {
                    if (failure.get() != null || System.nanoTime() > deadline
                            || Thread.currentThread().isInterrupted()) {
                        log.warn("closing the change stream: {}", e.getMessage());
                        break;
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            executor.shutdown();
            try {
                executor.awaitTermination(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            StoreOffsetBackingStore.unregister(offsetId);
            done = true;
        }
    }
}
