package dev.tandem.postgres;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture.ChangeStream;
import dev.tandem.core.spi.ChangeCapture.StreamSpec;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Debezium embedded engine on a stream's slot, on its own thread: no snapshot of its own (the backfill is
 * Tandem's), Kafka Connect records (no JSON round trip), offsets in Tandem's store ({@link StoreOffsetBackingStore}).
 * Each batch goes to the stream's sink as changes; Debezium commits offsets (and so moves the slot's flush LSN) only
 * for records the sink returned from, and with {@code keepTransactions} only up to the last transaction's end.
 */
final class PgChangeStream implements ChangeStream {
    private static final Logger log = LoggerFactory.getLogger(PgChangeStream.class);

    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tandem-stream");
        t.setDaemon(true);
        return t;
    });
    private final StreamSpec spec;
    private final String offsetId = UUID.randomUUID().toString();
    private final PgChangeRecords records;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private volatile boolean closing;
    private volatile boolean done;
    /** keepTransactions: between a BEGIN and its END record (the engine's handler thread only). */
    private boolean inTransaction;

    private PgChangeStream(Endpoint endpoint, StreamSpec spec) {
        this.spec = spec;
        Map<TableRef, TableInfo> tables = new HashMap<>();
        spec.tables().forEach(t -> tables.put(t.ref(), t));
        this.records = new PgChangeRecords(spec.streamName(), tables);
        StoreOffsetBackingStore.register(offsetId, spec.offsets());
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties(endpoint, spec, offsetId))
                .using((success, message, error) -> {
                    if (!success && !closing) {
                        failure.compareAndSet(null, error != null ? error : new IllegalStateException(message));
                        log.error("change stream {} stopped: {}", spec.streamName(), endpoint.scrub(message));
                    }
                    done = true;
                })
                .notifying(this::handle)
                .build();
    }

    /** Starts streaming {@code spec}'s tables from its stored position (or the slot's, the first time). */
    static PgChangeStream start(Endpoint endpoint, StreamSpec spec) {
        PgChangeStream stream = new PgChangeStream(endpoint, spec);
        stream.executor.execute(stream.engine);
        return stream;
    }

    /** One batch of Debezium records: to the sink as changes, then confirmed as far as is durable. */
    private void handle(List<RecordChangeEvent<SourceRecord>> batch,
                        DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        List<Change> changes = new ArrayList<>(batch.size());
        int durable = batch.size() - 1; // the last record after which no source transaction is open
        if (spec.keepTransactions()) {
            durable = -1;
            for (int i = 0; i < batch.size(); i++) {
                String status = records.transactionStatus(batch.get(i).record());
                if (status != null) {
                    inTransaction = status.equals("BEGIN");
                }
                if (!inTransaction) {
                    durable = i;
                }
            }
        }
        for (RecordChangeEvent<SourceRecord> r : batch) {
            records.convert(r.record(), changes);
        }
        boolean taken;
        try {
            taken = changes.isEmpty() || spec.sink().accept(changes);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            failure.compareAndSet(null, e);
            closeAsync();
            throw new InterruptedException("apply failed: " + e.getMessage());
        }
        if (!taken) {
            return;
        }
        // Only records up to a transaction's end are confirmed; with keepTransactions the sink holds the rest
        // applied but uncommitted, and after a restart the stream delivers that transaction again.
        for (int i = 0; i <= durable; i++) {
            committer.markProcessed(batch.get(i));
        }
        committer.markBatchFinished();
    }

    private static Properties properties(Endpoint endpoint, StreamSpec spec, String offsetId) {
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
        // every TLS setting of the URL and the properties, as the copy's connections use them (Debezium reads only
        // its own database.ssl* keys and would fall back to prefer: no certificate check, plain text allowed)
        PgTls.toDebezium(endpoint, p);
        // one prefix per stream: Debezium names its JMX metrics after it, and a second stream in the same process
        // (two migrations in one tandem server) with the same prefix waited a minute for the first one's to go
        p.setProperty("topic.prefix", spec.streamName());
        p.setProperty("plugin.name", "pgoutput");
        // the same bounds as every other connection (PgSession.CONNECT), passed through to the driver
        p.setProperty("driver.connectTimeout", endpoint.properties().getOrDefault("connectTimeout", "10"));
        p.setProperty("driver.loginTimeout", endpoint.properties().getOrDefault("loginTimeout", "30"));
        p.setProperty("slot.name", spec.streamName());
        p.setProperty("publication.name", spec.streamName());
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("table.include.list", includeList(spec.tables().stream().map(TableInfo::ref).toList()));
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("binary.handling.mode", "bytes");
        p.setProperty("hstore.handling.mode", "map");
        p.setProperty("include.unknown.datatypes", "true");
        // each field's schema then names its source type, length and scale: a type change (varchar(10) to
        // varchar(20), numeric to text) shows as a new row shape even where the record's own type stays the same
        p.setProperty("column.propagate.source.type", ".*");
        p.setProperty("skipped.operations", "none");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("unavailable.value.placeholder", PgChangeRecords.UNCHANGED);
        p.setProperty("heartbeat.interval.ms", String.valueOf(spec.heartbeat().toMillis()));
        p.setProperty("heartbeat.action.query", "SELECT pg_logical_emit_message(false, '" + PgChangeRecords.HEARTBEAT
                + "', '')");
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

    /**
     * Debezium's {@code table.include.list}: one regular expression per table, split by Debezium on commas, matched
     * against {@code schema.table} case-insensitively. Every character but ASCII letters, digits and {@code _} is
     * written as its code point ({@code \x{2c}}), so no name — commas, dots, quotes, braces, 4-byte characters —
     * can split or widen the list. Debezium may still let through a table whose name reads alike ({@code s."x.t"}
     * and {@code "s.x".t}, or names differing in case); {@link PgChangeRecords} keeps only this stream's tables, by
     * the (schema, table) each record names.
     */
    static String includeList(List<TableRef> tables) {
        return tables.stream().map(t -> literal(t.schema()) + "\\." + literal(t.name()))
                .collect(Collectors.joining(","));
    }

    /**
     * Tables of one stream that Debezium cannot tell apart: it keys a table by schema and table joined with a dot,
     * so {@code s."x.t"} and {@code "s.x".t} are one table to it, and the changes of both come labelled as whichever
     * it met first (seen: one table's changes applied to the other). A stream must not carry two of them.
     */
    static List<List<TableRef>> readAlike(List<TableRef> tables) {
        Map<String, List<TableRef>> byJoined = new TreeMap<>();
        tables.forEach(t -> byJoined.computeIfAbsent(t.schema() + "." + t.name(), k -> new ArrayList<>()).add(t));
        return byJoined.values().stream().filter(l -> l.size() > 1).toList();
    }

    private static String literal(String name) {
        StringBuilder out = new StringBuilder();
        name.codePoints().forEach(cp -> {
            if (cp < 128 && (Character.isLetterOrDigit(cp) || cp == '_')) {
                out.appendCodePoint(cp);
            } else {
                out.append("\\x{").append(Integer.toHexString(cp)).append('}');
            }
        });
        return out.toString();
    }

    @Override
    public boolean running() {
        return !done && failure.get() == null;
    }

    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    private void closeAsync() {
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
        // an engine that ended by itself (a failure) is stopping already: closing it again only makes its own thread
        // throw "Cannot change engine state to 'STOPPING'"
        while (!done) {
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
