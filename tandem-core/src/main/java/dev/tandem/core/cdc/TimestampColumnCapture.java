package dev.tandem.core.cdc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cdc.method: timestamp_column}: changes found by polling a column that every write sets to its time
 * ({@code updated_at}), on any JDBC source, with no change log.
 * <p>How it works. Each table has a <em>watermark</em>: the newest value of the column seen so far (taken when the
 * stream starts, before the first chunk is copied, then carried forward in the stream's offsets). Every
 * {@code poll_interval} a cycle reads, per table, every row whose column is later than its watermark minus
 * {@code overlap_window}, and sends each as an upsert of the row's current state. Reading the overlap again is what
 * catches a row whose transaction committed after a later-stamped one had already been read; reading a row twice
 * is harmless since the apply is idempotent. Deletes leave nothing to poll, so every ten poll intervals (and for
 * every sync fence) a <em>key comparison</em> streams the target's keys and asks the source, in batches, which of
 * them still exist; the missing ones are sent as deletes. The target is read before the source, so a row inserted
 * meanwhile is never taken for a deleted one. A cycle's changes pass the same sink (chunk gates, batched apply) as
 * a log-based stream's, and the watermarks are stored only after the sink committed them.
 * <p>Positions are the source's clock at the start of a cycle (ISO-8601); lag is measured in seconds and records,
 * there are no log bytes. A fence ({@link #fence}) is delivered at the end of the first whole cycle (poll and key
 * comparison) that starts after it was asked for.
 * <p>Limits (README "Change data capture"): a write that does not set the column is not seen until the next key
 * comparison, and then only if it was an insert or delete (an update of such a row is missed); rows with the
 * column NULL are never polled; a transaction that stays open longer than {@code overlap_window} after stamping its
 * rows (or writers whose clocks differ by more) can be missed; each key comparison reads every key of both tables;
 * TRUNCATE shows up as deletes at the next key comparison.
 */
public final class TimestampColumnCapture implements ChangeCapture {
    public static final String KIND = "timestamp";
    private static final Logger log = LoggerFactory.getLogger(TimestampColumnCapture.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int KEY_BATCH = 500;
    private static final int FETCH = 1000;
    /** Key comparisons run every this many poll intervals (and for every fence). */
    private static final int POLLS_PER_KEY_CHECK = 10;

    private final Connector source;
    private final Connector target;
    private final String column;
    private final Duration pollInterval;
    private final Duration overlap;
    private final Map<String, TableRef> targets;
    private final ConcurrentLinkedQueue<String> fences = new ConcurrentLinkedQueue<>();
    private volatile Poller poller;

    /**
     * @param targets the target table of each source table, by the source's qualified name (empty when the
     *                capture is only opened)
     */
    public TimestampColumnCapture(Connector source, Connector target, String column, Duration pollInterval,
                                  Duration overlap, Map<String, TableRef> targets) {
        this.source = source;
        this.target = target;
        this.column = column;
        this.pollInterval = pollInterval;
        this.overlap = overlap;
        this.targets = Map.copyOf(targets);
    }

    /**
     * Why {@code column} of {@code table} cannot be polled (missing, or not a date/time type), or empty when it can;
     * the connectors' preflights report it.
     */
    public static Optional<String> whyNotPollable(String column, TableInfo table) {
        Optional<String> type = table.column(column).map(c -> c.nativeType().toLowerCase(java.util.Locale.ROOT));
        if (type.isEmpty()) {
            return Optional.of("table " + table.ref().qualified() + " has no column " + column + " to poll");
        }
        if (!type.get().contains("timestamp") && !type.get().contains("date")) {
            return Optional.of(table.ref().qualified() + "." + column + " is " + type.get() + ", not a timestamp, "
                    + "so it cannot be polled");
        }
        return Optional.empty();
    }

    @Override
    public String positionKind() {
        return KIND;
    }

    /** Nothing is created on the source; P0 is its clock now. */
    @Override
    public String open(Connection c, String streamName, List<TableRef> tables) throws SQLException {
        return currentPosition(c);
    }

    @Override
    public void drop(Connection c, String streamName) {
        // nothing was created
    }

    @Override
    public String fence(Connection c, String marker) throws SQLException {
        fences.add(marker);
        Poller p = poller;
        if (p != null) {
            p.wake();
        }
        return currentPosition(c);
    }

    @Override
    public String currentPosition(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT CURRENT_TIMESTAMP")) {
            rs.next();
            return rs.getTimestamp(1).toInstant().toString();
        }
    }

    /** Milliseconds of source clock from {@code from} to {@code to}. */
    @Override
    public long distance(String from, String to) {
        try {
            return Math.max(0, Duration.between(Instant.parse(from), Instant.parse(to)).toMillis());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Polling sees rows, not the transactions that wrote them. */
    @Override
    public boolean knowsTransactions() {
        return false;
    }

    @Override
    public boolean distanceInBytes() {
        return false;
    }

    @Override
    public ChangeStream start(StreamSpec spec) {
        Poller p = new Poller(spec);
        try {
            p.loadWatermarks();
        } catch (SQLException e) {
            p.closeConnections();
            throw new IllegalStateException("cannot read the starting " + column + " values on the source: "
                    + source.endpoint().scrub(e.getMessage()), e);
        }
        poller = p;
        p.thread.start();
        return p;
    }

    /** One table as the poller reads it. */
    private final class Table {
        final TableInfo info;
        final String name;
        final TableRef targetRef;
        final List<String> columns;
        final List<String> keys;
        final int timestampAt;
        final int[] keyAt;
        Timestamp watermark;

        Table(TableInfo info) {
            this.info = info;
            this.name = info.ref().qualified();
            this.targetRef = targets.getOrDefault(name, info.ref());
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
    }

    /** The stream: one thread running cycles until closed or failed. */
    private final class Poller implements ChangeStream {
        final StreamSpec spec;
        final Thread thread;
        final List<Table> tables = new ArrayList<>();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final ReentrantLock lock = new ReentrantLock();
        final Condition woken = lock.newCondition();
        volatile boolean closing;
        volatile boolean done;
        boolean wakeRequested;
        Connection src;
        Connection dst;
        String sourceQuote;
        String targetQuote;

        Poller(StreamSpec spec) {
            this.spec = spec;
            for (TableInfo t : spec.tables()) {
                tables.add(new Table(t));
            }
            this.thread = new Thread(this::run, "tandem-poll-" + spec.streamName());
            this.thread.setDaemon(true);
        }

        /** The stored watermarks, or each table's newest value now (at the first start, before any chunk). */
        void loadWatermarks() throws SQLException {
            Optional<String> stored = spec.offsets().load();
            if (stored.isPresent()) {
                JsonNode root;
                try {
                    root = JSON.readTree(stored.get()).path("watermarks");
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("the stored offsets of " + spec.streamName() + " are not "
                            + "readable: " + e.getMessage(), e);
                }
                for (Table t : tables) {
                    JsonNode w = root.get(t.name);
                    t.watermark = w == null || w.isNull() ? null : Timestamp.valueOf(LocalDateTime.parse(w.asText()));
                }
                return;
            }
            Connection c = source();
            for (Table t : tables) {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT max("
                        + q(sourceQuote, column) + ") FROM " + table(sourceQuote, t.info.ref()))) {
                    rs.next();
                    t.watermark = rs.getTimestamp(1);
                }
            }
            c.commit();
            spec.offsets().save(offsets(), null);
        }

        void run() {
            long lastKeyCheck = System.nanoTime();
            try {
                while (!closing) {
                    awaitNextCycle();
                    if (closing) {
                        break;
                    }
                    List<String> asked = new ArrayList<>();
                    for (String f; (f = fences.poll()) != null; ) {
                        asked.add(f);
                    }
                    String position = currentPosition(source());
                    source().commit();
                    Batcher out = new Batcher(position);
                    for (Table t : tables) {
                        if (!closing) {
                            poll(t, out);
                        }
                    }
                    long now = System.nanoTime();
                    boolean keyCheck = !asked.isEmpty()
                            || now - lastKeyCheck >= pollInterval.toNanos() * POLLS_PER_KEY_CHECK;
                    if (keyCheck) {
                        for (Table t : tables) {
                            if (!closing) {
                                findDeletes(t, out);
                            }
                        }
                        lastKeyCheck = now;
                    }
                    for (String f : asked) {
                        out.add(Change.marker(position, null, f));
                    }
                    out.add(Change.marker(position, null, null));
                    if (!out.flush() || closing) {
                        break;
                    }
                    spec.offsets().save(offsets(), position);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                if (!closing) {
                    failure.compareAndSet(null, e);
                    log.error("timestamp-column stream {} stopped: {}", spec.streamName(),
                            source.endpoint().scrub(String.valueOf(e.getMessage())));
                }
            } finally {
                closeConnections();
                done = true;
            }
        }

        /** Every row stamped after the watermark minus the overlap, as an upsert of its current state. */
        void poll(Table t, Batcher out) throws Exception {
            Connection c = source();
            String sql = "SELECT " + cols(sourceQuote, t.columns) + " FROM " + table(sourceQuote, t.info.ref())
                    + " WHERE " + q(sourceQuote, column) + (t.watermark == null ? " IS NOT NULL" : " > ?");
            Timestamp newest = t.watermark;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setFetchSize(FETCH);
                if (t.watermark != null) {
                    ps.setTimestamp(1, new Timestamp(t.watermark.getTime() - overlap.toMillis()));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    ResultSetMetaData md = rs.getMetaData();
                    int[] types = new int[t.columns.size()];
                    for (int i = 0; i < types.length; i++) {
                        types[i] = md.getColumnType(i + 1);
                    }
                    while (rs.next()) {
                        String[] values = new String[types.length];
                        for (int i = 0; i < values.length; i++) {
                            values[i] = text(rs, i + 1, types[i]);
                        }
                        Timestamp ts = rs.getTimestamp(t.timestampAt + 1);
                        if (ts != null && (newest == null || ts.after(newest))) {
                            newest = ts;
                        }
                        String[] key = new String[t.keyAt.length];
                        for (int i = 0; i < key.length; i++) {
                            key[i] = values[t.keyAt[i]];
                        }
                        if (!out.add(new Change(Change.Kind.UPSERT, t.name, Arrays.asList(key), t.columns,
                                Arrays.asList(values), out.position, null, null))) {
                            return;
                        }
                    }
                }
            }
            c.commit();
            t.watermark = newest;
        }

        /** Target keys first, then which of them the source still has; the rest are deletes. */
        void findDeletes(Table t, Batcher out) throws Exception {
            Connection d = target();
            String sql = "SELECT " + cols(targetQuote, t.keys) + " FROM " + table(targetQuote, t.targetRef);
            try (Statement st = d.createStatement()) {
                st.setFetchSize(FETCH);
                try (ResultSet rs = st.executeQuery(sql)) {
                    List<Object[]> objects = new ArrayList<>(KEY_BATCH);
                    List<String[]> texts = new ArrayList<>(KEY_BATCH);
                    int n = t.keys.size();
                    while (rs.next()) {
                        Object[] o = new Object[n];
                        String[] s = new String[n];
                        for (int i = 0; i < n; i++) {
                            o[i] = rs.getObject(i + 1);
                            s[i] = rs.getString(i + 1);
                        }
                        objects.add(o);
                        texts.add(s);
                        if (objects.size() == KEY_BATCH) {
                            if (!missing(t, objects, texts, out)) {
                                return;
                            }
                            objects.clear();
                            texts.clear();
                        }
                    }
                    if (!objects.isEmpty()) {
                        missing(t, objects, texts, out);
                    }
                }
            }
            d.commit();
        }

        private boolean missing(Table t, List<Object[]> objects, List<String[]> texts, Batcher out) throws Exception {
            int n = t.keys.size();
            String tuple = n == 1 ? "?" : "(" + String.join(", ", java.util.Collections.nCopies(n, "?")) + ")";
            String sql = "SELECT " + cols(sourceQuote, t.keys) + " FROM " + table(sourceQuote, t.info.ref())
                    + " WHERE " + (n == 1 ? q(sourceQuote, t.keys.get(0)) : "(" + cols(sourceQuote, t.keys) + ")")
                    + " IN (" + String.join(", ", java.util.Collections.nCopies(objects.size(), tuple)) + ")";
            Connection c = source();
            Map<List<String>, Boolean> present = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int p = 1;
                for (Object[] o : objects) {
                    for (Object v : o) {
                        ps.setObject(p++, v);
                    }
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String[] k = new String[n];
                        for (int i = 0; i < n; i++) {
                            k[i] = rs.getString(i + 1);
                        }
                        present.put(Arrays.asList(k), Boolean.TRUE);
                    }
                }
            }
            c.commit();
            for (String[] k : texts) {
                if (!present.containsKey(Arrays.asList(k))) {
                    if (!out.add(new Change(Change.Kind.DELETE, t.name, Arrays.asList(k), List.of(), List.of(),
                            out.position, null, null))) {
                        return false;
                    }
                }
            }
            return true;
        }

        void awaitNextCycle() throws InterruptedException {
            lock.lock();
            try {
                long left = pollInterval.toNanos();
                while (!wakeRequested && !closing && left > 0) {
                    left = woken.awaitNanos(left);
                }
                wakeRequested = false;
            } finally {
                lock.unlock();
            }
        }

        void wake() {
            lock.lock();
            try {
                wakeRequested = true;
                woken.signalAll();
            } finally {
                lock.unlock();
            }
        }

        String offsets() {
            ObjectNode root = JSON.createObjectNode();
            ObjectNode w = root.putObject("watermarks");
            for (Table t : tables) {
                if (t.watermark == null) {
                    w.putNull(t.name);
                } else {
                    w.put(t.name, t.watermark.toLocalDateTime().toString());
                }
            }
            return root.toString();
        }

        Connection source() throws SQLException {
            if (src == null || src.isClosed()) {
                src = source.connect();
                src.setAutoCommit(false);
                sourceQuote = quote(src);
            }
            return src;
        }

        Connection target() throws SQLException {
            if (dst == null || dst.isClosed()) {
                dst = target.connect();
                dst.setAutoCommit(false);
                dst.setReadOnly(true);
                targetQuote = quote(dst);
            }
            return dst;
        }

        void closeConnections() {
            for (Connection c : new Connection[] {src, dst}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // gone already
                    }
                }
            }
            src = null;
            dst = null;
        }

        @Override
        public boolean running() {
            return !done && thread.isAlive();
        }

        @Override
        public Optional<Throwable> failure() {
            return Optional.ofNullable(failure.get());
        }

        @Override
        public void close() {
            closing = true;
            wake();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (poller == this) {
                poller = null;
            }
        }

        /** Hands changes to the sink in batches of at most {@code maxBatch}. */
        final class Batcher {
            final String position;
            final List<Change> batch = new ArrayList<>();

            Batcher(String position) {
                this.position = position;
            }

            /** False when the sink is stopping (nothing more should be read). */
            boolean add(Change c) throws Exception {
                batch.add(c);
                return batch.size() < spec.maxBatch() || flush();
            }

            boolean flush() throws Exception {
                if (batch.isEmpty() || closing) {
                    return !closing;
                }
                boolean taken = spec.sink().accept(new ArrayList<>(batch));
                batch.clear();
                if (!taken) {
                    closing = true; // the sink is stopping: read nothing more, confirm nothing of this cycle
                }
                return taken;
            }
        }
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

    private static String quote(Connection c) throws SQLException {
        String q = c.getMetaData().getIdentifierQuoteString();
        return q == null || q.isBlank() ? "\"" : q.trim();
    }

    private static String q(String quote, String name) {
        return quote + name.replace(quote, quote + quote) + quote;
    }

    private static String cols(String quote, List<String> names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(q(quote, n));
        }
        return sb.toString();
    }

    private static String table(String quote, TableRef ref) {
        return (ref.schema() == null || ref.schema().isEmpty() ? "" : q(quote, ref.schema()) + ".")
                + q(quote, ref.name());
    }
}
