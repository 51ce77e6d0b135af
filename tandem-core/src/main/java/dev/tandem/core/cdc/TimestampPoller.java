package dev.tandem.core.cdc;

import static dev.tandem.core.cdc.PolledTable.cols;
import static dev.tandem.core.cdc.PolledTable.q;
import static dev.tandem.core.cdc.PolledTable.quote;
import static dev.tandem.core.cdc.PolledTable.table;
import static dev.tandem.core.cdc.PolledTable.text;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture.ChangeStream;
import dev.tandem.core.spi.ChangeCapture.StreamSpec;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A timestamp-column stream ({@code TimestampColumnCapture}): one thread running cycles until closed or failed. A
 * cycle polls each table past its watermark, every {@value #POLLS_PER_KEY_CHECK} intervals (and for a fence) compares
 * keys to find deletes, hands the changes to the sink in batches and stores the watermarks once the sink committed
 * them.
 */
final class TimestampPoller implements ChangeStream {
    private static final Logger log = LoggerFactory.getLogger(TimestampPoller.class);
    private static final int KEY_BATCH = 500;
    private static final int FETCH = 1000;
    /** Key comparisons run every this many poll intervals (and for every fence). */
    private static final int POLLS_PER_KEY_CHECK = 10;

    private final Connector source;
    private final Connector target;
    private final String column;
    private final Duration pollInterval;
    private final Duration overlap;
    private final Queue<String> fences;
    private final Consumer<TimestampPoller> onClose;
    final StreamSpec spec;
    final Thread thread;
    final List<PolledTable> tables = new ArrayList<>();
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

    TimestampPoller(Settings settings, StreamSpec spec, Queue<String> fences,
                    Consumer<TimestampPoller> onClose) {
        this.source = settings.source();
        this.target = settings.target();
        this.column = settings.column();
        this.pollInterval = settings.pollInterval();
        this.overlap = settings.overlap();
        this.fences = fences;
        this.onClose = onClose;
        this.spec = spec;
        for (TableInfo t : spec.tables()) {
            tables.add(new PolledTable(t, settings.targets().getOrDefault(t.ref().qualified(), t.ref()), column));
        }
        this.thread = new Thread(this::run, "tandem-poll-" + spec.streamName());
        this.thread.setDaemon(true);
    }

    /** The stored watermarks, or each table's newest value now (at the first start, before any chunk). */
    void loadWatermarks() throws SQLException {
        Optional<String> stored = spec.offsets().load();
        if (stored.isPresent()) {
            PolledTable.readWatermarks(stored.get(), tables, spec.streamName());
            return;
        }
        Connection c = source();
        for (PolledTable t : tables) {
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
                String position = clock(source());
                source().commit();
                Batcher out = new Batcher(position);
                for (PolledTable t : tables) {
                    if (!closing) {
                        poll(t, out);
                    }
                }
                long now = System.nanoTime();
                boolean keyCheck = !asked.isEmpty()
                        || now - lastKeyCheck >= pollInterval.toNanos() * POLLS_PER_KEY_CHECK;
                if (keyCheck) {
                    for (PolledTable t : tables) {
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
    void poll(PolledTable t, Batcher out) throws Exception {
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
    void findDeletes(PolledTable t, Batcher out) throws Exception {
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

    private boolean missing(PolledTable t, List<Object[]> objects, List<String[]> texts, Batcher out) throws Exception {
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
        return PolledTable.watermarks(tables);
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
        onClose.accept(this);
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

    /** What a poller needs: where it reads and writes, which column, how often and how far back it looks. */
    record Settings(Connector source, Connector target, String column, Duration pollInterval, Duration overlap,
                    Map<String, TableRef> targets) {
    }

    /** The source's clock now: a timestamp-column stream's position. */
    static String clock(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT CURRENT_TIMESTAMP")) {
            rs.next();
            return rs.getTimestamp(1).toInstant().toString();
        }
    }
}
