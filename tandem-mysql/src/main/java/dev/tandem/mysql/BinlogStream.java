package dev.tandem.mysql;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.RotateEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture.ChangeStream;
import dev.tandem.core.spi.ChangeCapture.StreamSpec;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.charset.Charset;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stream of the binary log, read as a replica would ({@code mysql-binlog-connector-java}, the client Debezium's
 * MySQL connector uses), from a stored {@code file:offset} that is always a transaction's end. Two threads: the
 * client's reads events and turns the row events of the stream's tables into changes (the row's cells by the
 * table's column order, {@link BinlogValues}); the delivery thread hands them to the sink in batches and, once the
 * sink took a batch, stores the position after the last transaction that ended in it — a restart reads a
 * transaction cut by a batch again from its start (the apply is idempotent). Between the two a bounded queue, so
 * a slow target slows the reading, never fills memory.
 * <p>Fences are positions ({@link BinlogFences}): nothing is written to the source. A fence is delivered at the
 * first transaction end, DDL or server heartbeat at or past it; an idle source sends a heartbeat every
 * {@code spec.heartbeat()}, and a fence the stream has already passed is delivered at once.
 */
final class BinlogStream implements ChangeStream {
    private static final Logger log = LoggerFactory.getLogger(BinlogStream.class);
    private static final String NAME = "(`(?:[^`]|``)+`|[^`.\\s;]+)";
    /** {@code TRUNCATE [TABLE] [db.]name}, names bare or in backquotes. */
    private static final Pattern TRUNCATE = Pattern.compile("(?is)^\\s*TRUNCATE\\s+(?:TABLE\\s+)?(?:" + NAME
            + "\\s*\\.\\s*)?" + NAME + "\\s*;?\\s*$");
    private static final Pattern DDL = Pattern.compile("(?is)^\\s*(ALTER|CREATE|DROP|RENAME|TRUNCATE)\\b.*");

    /** A change for the sink, or a transaction end (change null) that positions may be confirmed at. */
    private record Item(Change change, String boundary) {
    }

    private final StreamSpec spec;
    private final BinlogFences fences;
    private final BinaryLogClient client;
    private final BlockingQueue<Item> queue;
    private final Map<String, TableInfo> tables = new HashMap<>();
    private final Map<String, List<BinlogValues.Cell>> cells = new HashMap<>();
    private final Map<String, Charset> charsets;
    private final boolean mariaDb;
    private final ColumnTypes types;
    private final Map<Long, String> tableIds = new HashMap<>();
    private final java.util.Set<String> announced = new java.util.HashSet<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread delivery;
    private volatile boolean closing;
    private volatile boolean done;
    private String file;
    private boolean inTransaction;
    private Instant committedAt;

    private BinlogStream(Endpoint endpoint, StreamSpec spec, BinlogPosition from, Map<String, Charset> charsets,
                         boolean mariaDb, ColumnTypes types, BinlogFences fences) {
        this.spec = spec;
        this.fences = fences;
        this.charsets = charsets;
        this.mariaDb = mariaDb;
        this.types = types;
        this.queue = new ArrayBlockingQueue<>(Math.max(64, spec.maxBatch() * 2));
        spec.tables().forEach(t -> tables.put(t.ref().qualified(), t));
        URI uri = URI.create(endpoint.url().substring(endpoint.url().indexOf(':') + 1));
        this.client = new BinaryLogClient(uri.getHost() == null ? "localhost" : uri.getHost(),
                uri.getPort() < 0 ? 3306 : uri.getPort(), endpoint.user(),
                endpoint.password() == null ? null : endpoint.password().reveal());
        // a replica id of its own, far from the small numbers servers are given
        client.setServerId(0x5A000000L + ThreadLocalRandom.current().nextInt(1 << 20));
        client.setBinlogFilename(from.file());
        client.setBinlogPosition(from.offset());
        client.setKeepAlive(false); // a lost connection ends the stream: the runner restarts it from the store
        client.setHeartbeatInterval(Math.max(100, spec.heartbeat().toMillis()));
        client.setConnectTimeout(10_000);
        client.setUseSendAnnotateRowsEvent(false);
        client.setEventDeserializer(BinlogDecoding.deserializer());
        client.registerEventListener(this::event);
        client.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
            @Override
            public void onCommunicationFailure(BinaryLogClient c, Exception ex) {
                fail(ex);
            }

            @Override
            public void onEventDeserializationFailure(BinaryLogClient c, Exception ex) {
                fail(ex);
            }

            @Override
            public void onDisconnect(BinaryLogClient c) {
                if (!closing) {
                    fail(new IOException("the source closed the binary log connection"));
                }
            }
        });
        this.file = from.file();
        this.delivery = new Thread(this::deliver, "tandem-binlog-" + spec.streamName());
        this.delivery.setDaemon(true);
    }

    static BinlogStream start(Endpoint endpoint, StreamSpec spec, BinlogPosition from, Map<String, Charset> charsets,
                              boolean mariaDb, ColumnTypes types, BinlogFences fences)
            throws IOException {
        BinlogStream s = new BinlogStream(endpoint, spec, from, charsets, mariaDb, types, fences);
        s.delivery.start();
        // the start is a transaction's end the target holds: fences up to it are passed (an idle source sends no
        // event before its first heartbeat), and a fence the previous stream of this capture passed is not taken
        // for passed by this one beyond where it starts
        try {
            fences.passed(from, m -> s.put(new Item(Change.marker(from.toString(), null, m), from.toString())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            s.close();
            throw new IOException("interrupted while starting the binary log stream", e);
        }
        try {
            s.client.connect(15_000); // on a thread of its own once connected
        } catch (java.util.concurrent.TimeoutException e) {
            s.close();
            throw new IOException("the source did not start sending its binary log within 15 s", e);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    /** The client's thread: one event. */
    private void event(Event e) {
        if (closing || failure.get() != null) {
            return;
        }
        try {
            EventType type = e.getHeader().getEventType();
            long next = e.getHeader() instanceof EventHeaderV4 h ? h.getNextPosition() : 0;
            switch (type) {
                case ROTATE -> file = ((RotateEventData) e.getData()).getBinlogFilename();
                case TABLE_MAP -> {
                    TableMapEventData m = e.getData();
                    tableIds.put(m.getTableId(), new TableRef(m.getDatabase(), m.getTable()).qualified());
                }
                case QUERY -> query(e.getData(), next, e.getHeader().getTimestamp());
                case XID -> {
                    inTransaction = false;
                    boundary(next, Instant.ofEpochMilli(e.getHeader().getTimestamp()));
                }
                case HEARTBEAT -> {
                    if (!inTransaction && next > 0) {
                        put(new Item(Change.marker(position(next), null, null), position(next)));
                        fences.passed(BinlogPosition.parse(position(next)), m -> put(new Item(Change.marker(
                                position(next), null, m), position(next))));
                    }
                }
                case WRITE_ROWS, EXT_WRITE_ROWS -> {
                    WriteRowsEventData d = e.getData();
                    String table = tableIds.get(d.getTableId());
                    if (tables.containsKey(table)) {
                        for (Serializable[] row : d.getRows()) {
                            put(new Item(upsert(table, row, next), null));
                        }
                    }
                }
                case UPDATE_ROWS, EXT_UPDATE_ROWS -> {
                    UpdateRowsEventData d = e.getData();
                    String table = tableIds.get(d.getTableId());
                    if (tables.containsKey(table)) {
                        for (Map.Entry<Serializable[], Serializable[]> row : d.getRows()) {
                            List<String> before = key(table, row.getKey());
                            Change after = upsert(table, row.getValue(), next);
                            if (!before.equals(after.key())) { // the key changed: the old row goes
                                put(new Item(delete(table, before, next), null));
                            }
                            put(new Item(after, null));
                        }
                    }
                }
                case DELETE_ROWS, EXT_DELETE_ROWS -> {
                    DeleteRowsEventData d = e.getData();
                    String table = tableIds.get(d.getTableId());
                    if (tables.containsKey(table)) {
                        for (Serializable[] row : d.getRows()) {
                            put(new Item(delete(table, key(table, row), next), null));
                        }
                    }
                }
                case TRANSACTION_PAYLOAD -> throw new IllegalStateException("the source compresses its binary log "
                        + "(binlog_transaction_compression = ON), which this stream cannot read yet; set it OFF "
                        + "(SET GLOBAL binlog_transaction_compression = OFF) and start the migration anew");
                default -> {
                    // GTID, FORMAT_DESCRIPTION, ANNOTATE_ROWS, ...: nothing to apply
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException ex) {
            fail(ex);
        }
    }

    /** BEGIN opens a transaction; COMMIT (non-transactional tables) and DDL end one (DDL commits implicitly). */
    private void query(QueryEventData q, long next, long timestamp) throws InterruptedException {
        String sql = q.getSql().trim();
        if (sql.equalsIgnoreCase("BEGIN")) {
            inTransaction = true;
            committedAt = null;
            return;
        }
        if (sql.equalsIgnoreCase("COMMIT")) {
            inTransaction = false;
            boundary(next, Instant.ofEpochMilli(timestamp));
            return;
        }
        if (DDL.matcher(sql).matches()) {
            inTransaction = false;
            java.util.regex.Matcher t = TRUNCATE.matcher(sql);
            if (t.matches()) { // logged as a statement, not as rows: the target's rows must go too
                String db = t.group(1) != null ? unquote(t.group(1)) : q.getDatabase();
                String table = new TableRef(db, unquote(t.group(2))).qualified();
                if (tables.containsKey(table)) {
                    put(new Item(new Change(Change.Kind.TRUNCATE, table, List.of(), List.of(), List.of(),
                            position(next), Instant.ofEpochMilli(timestamp), null), null));
                }
            }
            // the next row change of a table names its shape again; the applier checks the target can take it
            announced.clear();
            cells.clear();
            boundary(next, Instant.ofEpochMilli(timestamp));
        }
    }

    private static String unquote(String name) {
        return name.startsWith("`") ? name.substring(1, name.length() - 1).replace("``", "`") : name;
    }

    private void boundary(long next, Instant at) throws InterruptedException {
        String pos = position(next);
        committedAt = at;
        put(new Item(spec.keepTransactions() ? Change.commit(pos, at) : null, pos));
        fences.passed(BinlogPosition.parse(pos), m -> put(new Item(Change.marker(pos, at, m), pos)));
    }

    private String position(long next) {
        return file + ":" + next;
    }

    private Change upsert(String table, Serializable[] row, long next) throws InterruptedException {
        TableInfo t = shape(table, row.length);
        List<BinlogValues.Cell> c = cells(table, t);
        List<String> names = new ArrayList<>(row.length);
        List<String> values = new ArrayList<>(row.length);
        for (int i = 0; i < row.length; i++) {
            ColumnInfo col = t.columns().get(i);
            if (!col.generated()) {
                names.add(col.name());
                values.add(c.get(i).text(row[i]));
            }
        }
        if (announced.add(table)) {
            put(new Item(Change.schema(table, names, position(next), committedAt), null));
        }
        return new Change(Change.Kind.UPSERT, table, key(table, row), names, values, position(next), committedAt,
                null);
    }

    private Change delete(String table, List<String> key, long next) {
        return new Change(Change.Kind.DELETE, table, key, List.of(), List.of(), position(next), committedAt, null);
    }

    private List<String> key(String table, Serializable[] row) {
        TableInfo t = shape(table, row.length);
        List<BinlogValues.Cell> c = cells(table, t);
        List<String> key = new ArrayList<>();
        for (KeyColumn k : t.keyColumns()) {
            int i = index(t, k.name());
            key.add(c.get(i).text(row[i]));
        }
        return key;
    }

    /**
     * The table as this stream knows it; a row with another number of columns means its shape changed on the source
     * (DDL), which this stream cannot map by position: it stops, naming the table, and the schema-change handling
     * ({@code cdc.on_schema_change}) takes over when it restarts with the new shape.
     */
    private TableInfo shape(String table, int columns) {
        TableInfo t = tables.get(table);
        if (t.columns().size() != columns) {
            throw new IllegalStateException("table " + table + " has " + columns + " columns in the binary log but "
                    + t.columns().size() + " when the stream started: its shape changed on the source; the stream "
                    + "restarts with the new shape");
        }
        return t;
    }

    private static int index(TableInfo t, String column) {
        for (int i = 0; i < t.columns().size(); i++) {
            if (t.columns().get(i).name().equals(column)) {
                return i;
            }
        }
        throw new IllegalStateException("no column " + column + " in " + t.ref());
    }

    private List<BinlogValues.Cell> cells(String table, TableInfo t) {
        return cells.computeIfAbsent(table, k -> {
            List<BinlogValues.Cell> out = new ArrayList<>();
            for (ColumnInfo col : t.columns()) {
                boolean array = "text[]".equals(types.postgresType(t.ref().schema(), t.ref().name(), col.name(),
                        col.nativeType()).orElse(null));
                out.add(BinlogValues.of(table + "." + col.name(), col, charsets.get(table + "." + col.name()),
                        mariaDb, types.zeroDatesOrRefuse(), array));
            }
            return out;
        });
    }

    private void put(Item item) throws InterruptedException {
        while (!closing && failure.get() == null) {
            if (queue.offer(item, 100, TimeUnit.MILLISECONDS)) {
                return;
            }
        }
    }

    /** The delivery thread: batches to the sink; positions confirmed at the last transaction end taken. */
    private void deliver() {
        List<Item> items = new ArrayList<>();
        List<Change> batch = new ArrayList<>();
        try {
            while (!closing && failure.get() == null) {
                Item first = queue.poll(10, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                items.clear();
                items.add(first);
                queue.drainTo(items, spec.maxBatch() - 1);
                batch.clear();
                String confirm = null;
                for (Item i : items) {
                    if (i.change() != null) {
                        batch.add(i.change());
                    }
                    if (i.boundary() != null) {
                        confirm = i.boundary();
                    }
                }
                boolean taken = batch.isEmpty() || spec.sink().accept(batch);
                if (!taken) {
                    break;
                }
                if (confirm != null) {
                    spec.offsets().save(confirm, confirm);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            fail(e);
        } finally {
            done = true;
        }
    }

    private void fail(Throwable t) {
        if (closing) {
            return;
        }
        if (failure.compareAndSet(null, t)) {
            log.error("binlog stream {} stopped: {}", spec.streamName(), t.getMessage());
            Thread closer = new Thread(this::close, "tandem-binlog-close");
            closer.setDaemon(true);
            closer.start();
        }
    }

    @Override
    public boolean running() {
        return !done && failure.get() == null;
    }

    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    @Override
    public synchronized void close() {
        if (closing && done) {
            return;
        }
        closing = true;
        try {
            client.disconnect();
        } catch (IOException e) {
            log.warn("closing the binary log connection: {}", e.getMessage());
        }
        try {
            delivery.join(TimeUnit.SECONDS.toMillis(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        done = true;
    }
}
