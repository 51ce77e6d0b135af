package dev.tandem.bench;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.manifest.Secret;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 4's benchmark: a backlog of row changes in pgbench -N style (per source transaction: an UPDATE of
 * pgbench_accounts and an INSERT into pgbench_history) waiting in replication slots, applied
 * <ul>
 *   <li>by Tandem (Debezium embedded reading its slot, batched apply, positions durable in the control store, the
 *   target committing synchronously), resumed from a paused migration;</li>
 *   <li>in the same run, by native PostgreSQL subscriptions ({@code CREATE SUBSCRIPTION ... copy_data = false}) on
 *   the same target server, once with the subscription's default {@code synchronous_commit = off} and once with
 *   {@code on}.</li>
 * </ul>
 * The three slots are created before the backlog is written, so all three apply exactly the same changes. The clock
 * of each runs from the moment its consumer starts (Tandem: the resumed {@code migrate}, Debezium's start
 * included; native: {@code ALTER SUBSCRIPTION ... ENABLE}) to the moment the backlog's last transaction is
 * visible on its target. The target server runs with fsync on. Every copy is compared with the source at the end.
 * <p>{@code -Dtandem.bench.apply=source_transactions} (the pom's {@code -Dapply=}) measures Tandem with one target
 * transaction per source transaction; native-synchronous is the fair comparison then.
 */
final class CdcBench {
    private static final String ID = "cdcbench";
    private static final String APPLY = System.getProperty("tandem.bench.apply", "group_commit");
    private static final int ACCOUNTS = 100_000;

    private final long changes;

    CdcBench(long changes) {
        this.changes = changes;
    }

    void run() throws Exception {
        long transactions = changes / 2;
        say("CDC benchmark: a backlog of %,d row changes (%,d pgbench -N transactions: UPDATE pgbench_accounts + "
                + "INSERT pgbench_history), %d cores, heap max %d MB", transactions * 2, transactions,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try (EmbeddedPostgres source = EmbeddedPostgres.builder().database("bench").setting("max_wal_size", "8GB")
                .setting("checkpoint_timeout", "30min").start();
             EmbeddedPostgres target = EmbeddedPostgres.builder().database("bench").durable(true)
                     .setting("max_wal_size", "8GB").setting("shared_buffers", "512MB")
                     .setting("checkpoint_timeout", "30min").start()) {
            source.execute(SCHEMA);
            source.execute("INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, " + ACCOUNTS
                    + ") g", "VACUUM ANALYZE pgbench_accounts", GENERATOR);

            Path dir = Files.createTempDirectory("tandem-cdcbench-");
            Map<String, String> env = Map.of("PW_SRC", source.superuserPassword(), "PW_DST",
                    target.superuserPassword());
            try (ControlStore store = ControlStore.open(dir.resolve("store").toString(), env::get)) {
                // 1. Tandem copies the tables and starts streaming; paused once in catch-up, its slot keeps the rest.
                MigrationOutcome first = migrate(store, source, target, env, "manual", true);
                say("tandem: backfill done, stream paused (%s); its slot holds everything from here on",
                        first.status());

                // 2. Two native subscriptions, disabled, with their slots: they too hold everything from here on.
                nativeSubscriptions(source, target);

                // A fourth slot for the capture ceiling: Debezium + Tandem's conversion, nothing applied.
                Connector src = ConnectorRegistry.load().select(new Endpoint(source.jdbcUrl(),
                        EmbeddedPostgres.SUPERUSER, Secret.of(source.superuserPassword()), Map.of()), "source");
                List<TableInfo> tables = ceilingSlot(src);

                // 3. The backlog.
                long lastHid = backlog(source, transactions);

                // 4. Tandem applies it (resume, stop_when in_sync).
                AtomicReference<Double> tandemSeen = new AtomicReference<>();
                long t1 = System.nanoTime();
                Thread watch = watcher(() -> target.connect(), lastHid, t1, tandemSeen);
                MigrationOutcome second = migrate(store, source, target, env, "in_sync", false);
                double tandemExit = seconds(t1);
                watch.join();
                if (second.exitCode() != 0) {
                    throw new IllegalStateException("the migration failed: " + second.message());
                }
                double tandem = transactions * 2 / tandemSeen.get();
                say("tandem: last transaction visible after %.2f s; in sync, stream dropped, exited after %.2f s",
                        tandemSeen.get(), tandemExit);
                // every store write is written through and fsynced; H2 keeps superseded pages ~45 s before reuse
                say("control store: %s on disk after the apply", dev.tandem.core.plan.Sizes.bytes(
                        Files.size(dir.resolve("store").resolve("store.mv.db"))));

                double ceiling = captureCeiling(src, tables, lastHid, transactions * 2);
                // 5. Native, asynchronous then synchronous commit.
                double nativeAsync = nativeApply(target, "off", lastHid, transactions * 2);
                double nativeSync = nativeApply(target, "on", lastHid, transactions * 2);

                check(source, target);
                report(nativeAsync, nativeSync, tandem, ceiling);
            }
        }
    }

    /** Two native subscriptions (synchronous_commit off and on), disabled, each with its slot and its database. */
    private static void nativeSubscriptions(EmbeddedPostgres source, EmbeddedPostgres target) throws SQLException {
        source.execute("CREATE PUBLICATION bench_native FOR TABLE pgbench_accounts, pgbench_history");
        for (String mode : new String[] {"off", "on"}) {
            String db = "native_sync_" + mode;
            target.execute("CREATE DATABASE " + db);
            try (Connection t = target.connect(db, EmbeddedPostgres.SUPERUSER, target.superuserPassword());
                 Statement st = t.createStatement()) {
                st.execute(SCHEMA);
                st.execute("INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, "
                        + ACCOUNTS + ") g");
                st.execute("CREATE SUBSCRIPTION sub_" + mode + " CONNECTION 'host=127.0.0.1 port="
                        + source.port() + " dbname=bench user=postgres password=" + source.superuserPassword()
                        + "' PUBLICATION bench_native WITH (copy_data = false, enabled = false, slot_name = "
                        + "'bench_sync_" + mode + "', synchronous_commit = '" + mode + "')");
            }
        }
    }

    /** The tables, and a slot that holds the backlog for the capture ceiling. */
    private static List<TableInfo> ceilingSlot(Connector src) throws SQLException {
        List<TableInfo> tables = new ArrayList<>();
        try (Connection c = src.connect()) {
            for (String t : new String[] {"pgbench_accounts", "pgbench_history"}) {
                tables.add(src.introspector().describe(c, new TableRef("public", t)).orElseThrow());
            }
            src.changeCapture().orElseThrow().open(c, "bench_ceiling", "tandem bench",
                    tables.stream().map(TableInfo::ref).toList());
        }
        return tables;
    }

    /** Writes the backlog on the source; returns the last history row's id, the one every apply waits for. */
    private static long backlog(EmbeddedPostgres source, long transactions) throws SQLException {
        long t0 = System.nanoTime();
        try (Connection s = source.connect(); Statement st = s.createStatement()) {
            s.setAutoCommit(true);
            st.execute("SET synchronous_commit = off");
            st.execute("CALL bench_backlog(" + transactions + ")");
        }
        long lastHid = Long.parseLong(single(source, "SELECT max(hid) FROM pgbench_history"));
        say("backlog written in %.1f s: %,d transactions, %,d row changes, %s of WAL", seconds(t0),
                transactions, transactions * 2,
                single(source, "SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), "
                        + "confirmed_flush_lsn)) FROM pg_replication_slots WHERE slot_name = 'bench_sync_on'"));
        return lastHid;
    }

    private static void report(double nativeAsync, double nativeSync, double tandem, double ceiling) {
        say("");
        say("native subscription, synchronous_commit off: %,10.0f changes/s", nativeAsync);
        say("native subscription, synchronous_commit on : %,10.0f changes/s", nativeSync);
        say("tandem (durable positions, sync commit)    : %,10.0f changes/s (cdc.apply: %s)", tandem, APPLY);
        say("capture ceiling (read + convert, no apply) : %,10.0f changes/s (Debezium reading the same "
                + "backlog, changes discarded)", ceiling);
        say("ratio: %.2f x native-synchronous (goal 4), %.2f x native-asynchronous (goal 0.6)",
                tandem / nativeSync, tandem / nativeAsync);
    }

    private MigrationOutcome migrate(ControlStore store, EmbeddedPostgres source, EmbeddedPostgres target,
                                     Map<String, String> env, String stopWhen, boolean pauseInCatchUp) {
        String yaml = String.join("\n", "id: " + ID,
                "source: {url: '" + source.jdbcUrl() + "', user: postgres, password: ${env:PW_SRC}}",
                "target: {url: '" + target.jdbcUrl() + "', user: postgres, password: ${env:PW_DST}}",
                "scope: {tables: [public.pgbench_accounts, public.pgbench_history]}",
                "schema: create",
                "data: {type: scan, chunk_rows: 50000, parallelism: 2}",
                "migration:",
                "  cdc: {method: logical_replication, apply: " + APPLY + "}",
                "  continuous: {enabled: true, stop_when: " + stopWhen + "}",
                // the apply alone, as the native subscription it is compared with; -Dtandem.bench.verify=true adds
                // continuous verification (every applied row read again on both sides)
                "validation: {continuous: " + Boolean.getBoolean("tandem.bench.verify") + "}", "");
        ManifestDocument doc = new ManifestReader(env::get).document(yaml, "cdcbench", ManifestReader.Purpose.RUN);
        return BenchRuns.migrate(store, ID, doc, pauseInCatchUp);
    }

    /**
     * The read side's limit: the same backlog read from its own slot by the same capture Tandem uses (Debezium
     * embedded and the conversion to changes), every change discarded at once.
     */
    private double captureCeiling(Connector src, List<TableInfo> tables, long lastHid, long changeCount)
            throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong seen = new AtomicLong();
        String last = String.valueOf(lastHid);
        AtomicReference<String> offsets = new AtomicReference<>();
        ChangeCapture.OffsetStore store = new ChangeCapture.OffsetStore() {
            @Override
            public Optional<String> load() {
                return Optional.ofNullable(offsets.get());
            }

            @Override
            public void save(String text, String confirmed) {
                offsets.set(text);
            }
        };
        long t0 = System.nanoTime();
        ChangeCapture capture = src.changeCapture().orElseThrow();
        try (ChangeCapture.ChangeStream stream = capture.start(new ChangeCapture.StreamSpec("bench_ceiling", tables,
                Duration.ofSeconds(10), 4096, store, batch -> {
                    for (Change c : batch) {
                        if (c.kind() != Change.Kind.MARKER && c.kind() != Change.Kind.SCHEMA) {
                            seen.incrementAndGet();
                            if (c.table().endsWith("pgbench_history") && c.key().get(0).equals(last)) {
                                done.countDown();
                            }
                        }
                    }
                    return true;
                }, false))) {
            if (!done.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the capture did not reach the backlog's end: " + stream.failure());
            }
        }
        double s = seconds(t0);
        try (Connection c = src.connect()) {
            capture.drop(c, "bench_ceiling", "tandem bench");
        }
        say("capture ceiling: %,d changes read and converted in %.2f s", seen.get(), s);
        return changeCount / s;
    }

    private double nativeApply(EmbeddedPostgres target, String mode, long lastHid, long changeCount)
            throws Exception {
        String db = "native_sync_" + mode;
        AtomicReference<Double> seen = new AtomicReference<>();
        try (Connection t = target.connect(db, EmbeddedPostgres.SUPERUSER, target.superuserPassword());
             Statement st = t.createStatement()) {
            long t0 = System.nanoTime();
            st.execute("ALTER SUBSCRIPTION sub_" + mode + " ENABLE");
            watcher(() -> target.connect(db, EmbeddedPostgres.SUPERUSER, target.superuserPassword()), lastHid, t0,
                    seen).join();
            st.execute("ALTER SUBSCRIPTION sub_" + mode + " DISABLE");
        }
        say("native subscription (synchronous_commit %s): last transaction visible after %.2f s", mode, seen.get());
        return changeCount / seen.get();
    }

    interface Connect {
        Connection get() throws SQLException;
    }

    /** Polls every 10 ms until the backlog's last history row is visible; records the seconds since t0. */
    private static Thread watcher(Connect connect, long lastHid, long t0, AtomicReference<Double> seen) {
        Thread t = new Thread(() -> {
            try (Connection c = connect.get(); Statement st = c.createStatement()) {
                while (true) {
                    try (ResultSet rs = st.executeQuery("SELECT 1 FROM pgbench_history WHERE hid = " + lastHid)) {
                        if (rs.next()) {
                            seen.set(seconds(t0));
                            return;
                        }
                    } catch (SQLException e) {
                        // the table is not there yet (Tandem creates it)
                    }
                    Thread.sleep(10);
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "bench-watcher");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Each of the three copies holds exactly the source's rows. */
    private static void check(EmbeddedPostgres source, EmbeddedPostgres target) throws SQLException {
        for (String table : new String[] {"pgbench_accounts", "pgbench_history"}) {
            String q = "SELECT count(*) || ':' || sum(hashtext(t::text)) FROM " + table + " t";
            String expected = single(source, q);
            for (String db : new String[] {"bench", "native_sync_off", "native_sync_on"}) {
                String got;
                try (Connection c = target.connect(db, EmbeddedPostgres.SUPERUSER, target.superuserPassword());
                     Statement st = c.createStatement(); ResultSet rs = st.executeQuery(q)) {
                    rs.next();
                    got = rs.getString(1);
                }
                if (!expected.equals(got)) {
                    throw new IllegalStateException(table + " in " + db + " differs from the source: " + got
                            + " vs " + expected);
                }
            }
        }
        say("all three copies equal the source (count and row hash sum of both tables)");
    }

    private static final String SCHEMA = "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, "
            + "filler char(84)); CREATE TABLE pgbench_history (hid bigserial PRIMARY KEY, tid int, bid int, aid int, "
            + "delta int, mtime timestamp, filler char(22))";

    /** pgbench -N's transaction, committed one by one inside a procedure. */
    private static final String GENERATOR = """
            CREATE PROCEDURE bench_backlog(n bigint) LANGUAGE plpgsql AS $$
            DECLARE a int; d int;
            BEGIN
              FOR i IN 1..n LOOP
                a := 1 + floor(random() * %d)::int;
                d := floor(random() * 10001)::int - 5000;
                UPDATE pgbench_accounts SET abalance = abalance + d WHERE aid = a;
                INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)
                  VALUES (1 + floor(random() * 10)::int, 1, a, d, clock_timestamp());
                COMMIT;
              END LOOP;
            END $$""".formatted(ACCOUNTS);

    private static String single(EmbeddedPostgres pg, String sql) throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }
}
