package dev.tandem.bench;

import static dev.tandem.bench.BackfillBench.say;
import static dev.tandem.bench.BackfillBench.seconds;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.manifest.Secret;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.EmbeddedMariaDb;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 21's binlog apply benchmark: a backlog of row changes in pgbench -N style on MariaDB (per source transaction an
 * UPDATE of {@code accounts} and an INSERT into {@code history}) written while two paused migrations wait at the same
 * binlog position, then applied by Tandem into PostgreSQL and, separately, into another MariaDB; and in the same run
 * the read side's ceiling: the same backlog read by the same capture (the binlog client and Tandem's conversion to
 * changes), every change discarded. Each clock runs from the resumed {@code migrate}'s start to the moment the
 * backlog's last history row is visible on its target. Prints changes/s and the ratios to the ceiling; every copy is
 * compared with the source at the end (count and sums).
 */
final class BinlogApplyBench {
    private static final int ACCOUNTS = 100_000;
    private final long changes;

    BinlogApplyBench(long changes) {
        this.changes = changes;
    }

    void run() throws Exception {
        long transactions = changes / 2;
        say("Binlog apply benchmark: a backlog of %,d row changes (%,d transactions: UPDATE accounts + INSERT history) "
                + "on MariaDB, %d cores, heap max %d MB", transactions * 2, transactions,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try (EmbeddedMariaDb source = EmbeddedMariaDb.builder().setting("innodb-buffer-pool-size", "1G").start();
             EmbeddedPostgres pg = EmbeddedPostgres.builder().database("bench").durable(true)
                     .setting("max_wal_size", "8GB").setting("shared_buffers", "512MB").start();
             EmbeddedMariaDb maria = EmbeddedMariaDb.builder().binlog(false).serverId(2)
                     .setting("innodb-buffer-pool-size", "1G").start()) {
            source.execute("CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
                    "INSERT INTO accounts SELECT seq, 1, 0, '' FROM seq_1_to_" + ACCOUNTS,
                    "CREATE TABLE history (hid bigint AUTO_INCREMENT PRIMARY KEY, aid int, delta int, "
                            + "mtime datetime(6))",
                    "CREATE PROCEDURE backlog(n int) BEGIN DECLARE i int DEFAULT 0; WHILE i < n DO "
                            + "START TRANSACTION; UPDATE accounts SET abalance = abalance + 1 WHERE aid = 1 + "
                            + "(i * 7919) % " + ACCOUNTS + "; INSERT INTO history (aid, delta, mtime) VALUES "
                            + "(1 + (i * 7919) % " + ACCOUNTS + ", 1, NOW(6)); COMMIT; SET i = i + 1; END WHILE; END");
            Path dir = Files.createTempDirectory("tandem-binlogbench-");
            Map<String, String> env = Map.of("PW_PG", pg.superuserPassword());
            String toPg = "target: {url: '" + pg.jdbcUrl() + "', user: postgres, password: ${env:PW_PG}}";
            String toMaria = "target: {url: '" + maria.jdbcUrl() + "', user: root, password: ''}";
            try (ControlStore store = ControlStore.open(dir.resolve("store").toString(), env::get)) {
                // 1. both migrations copy and pause in catch-up: their stored positions hold everything from here on
                migrate(store, "binlog-pg", source, toPg, env, "manual", true);
                migrate(store, "binlog-maria", source, toMaria, env, "manual", true);
                Connector src = ConnectorRegistry.load().select(new Endpoint(source.jdbcUrl(), "root", Secret.of(""),
                        Map.of()), "source");
                String p0;
                List<TableInfo> tables = new ArrayList<>();
                try (Connection c = src.connect()) {
                    p0 = src.changeLog().orElseThrow().currentPosition(c);
                    for (String t : List.of("accounts", "history")) {
                        tables.add(src.introspector().describe(c, new TableRef("tandem", t)).orElseThrow());
                    }
                }
                // 2. the backlog
                long t0 = System.nanoTime();
                source.execute("CALL backlog(" + transactions + ")");
                long lastHid = Long.parseLong(single(source::connect, "SELECT MAX(hid) FROM history"));
                say("backlog: %,d transactions written in %.1f s", transactions, seconds(t0));

                // 3. the read side's ceiling, then each apply
                double ceiling = ceiling(src, tables, p0, lastHid, transactions * 2);
                double intoPg = apply(store, "binlog-pg", source, toPg, env, lastHid,
                        () -> pg.connect(), "tandem.history", transactions * 2);
                double intoMaria = apply(store, "binlog-maria", source, toMaria, env, lastHid,
                        () -> maria.connect(), "history", transactions * 2);
                String expected = single(source::connect, "SELECT CONCAT(COUNT(*), ':', SUM(aid)) FROM history") + "/"
                        + single(source::connect, "SELECT SUM(abalance) FROM accounts");
                check("PostgreSQL", expected, single(pg::connect, "SELECT count(*) || ':' || sum(aid) FROM "
                        + "tandem.history") + "/" + single(pg::connect, "SELECT sum(abalance) FROM tandem.accounts"));
                check("MariaDB", expected, single(maria::connect, "SELECT CONCAT(COUNT(*), ':', SUM(aid)) FROM history")
                        + "/" + single(maria::connect, "SELECT SUM(abalance) FROM accounts"));
                say("");
                say("capture ceiling (read + convert) : %,10.0f changes/s", ceiling);
                say("tandem, MariaDB -> PostgreSQL     : %,10.0f changes/s  (%.2f x the ceiling)", intoPg,
                        intoPg / ceiling);
                say("tandem, MariaDB -> MariaDB        : %,10.0f changes/s  (%.2f x the ceiling)", intoMaria,
                        intoMaria / ceiling);
            }
        }
    }

    /** Resumes the paused migration to in-sync; changes/s until the backlog's last row is visible on the target. */
    private double apply(ControlStore store, String id, EmbeddedMariaDb source, String target,
                         Map<String, String> env, long lastHid, Connect targetConnect, String history, long count)
            throws Exception {
        long t0 = System.nanoTime();
        double[] seen = {0};
        Thread watch = new Thread(() -> {
            try (Connection c = targetConnect.get(); Statement st = c.createStatement()) {
                while (true) {
                    try (ResultSet rs = st.executeQuery("SELECT 1 FROM " + history + " WHERE hid = " + lastHid)) {
                        if (rs.next()) {
                            seen[0] = seconds(t0);
                            return;
                        }
                    } catch (SQLException notYet) {
                        // the table may be locked by the apply for a moment
                    }
                    Thread.sleep(10);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "bench-watch-" + id);
        watch.start();
        migrate(store, id, source, target, env, "in_sync", false);
        watch.join(TimeUnit.MINUTES.toMillis(30));
        say("tandem %s: last transaction visible after %.2f s", id, seen[0]);
        return count / seen[0];
    }

    /** The same backlog read from P0 by the same capture, every change discarded at once. */
    private static double ceiling(Connector src, List<TableInfo> tables, String p0, long lastHid, long count)
            throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong seen = new AtomicLong();
        String last = String.valueOf(lastHid);
        ChangeCapture.OffsetStore offsets = new ChangeCapture.OffsetStore() {
            @Override
            public Optional<String> load() {
                return Optional.of(p0);
            }

            @Override
            public void save(String text, String confirmed) {
            }
        };
        long t0 = System.nanoTime();
        try (ChangeCapture.ChangeStream stream = src.changeCapture().orElseThrow().start(new ChangeCapture.StreamSpec(
                "bench_ceiling", tables, Duration.ofSeconds(10), 4096, offsets, batch -> {
                    for (Change c : batch) {
                        if (c.kind() != Change.Kind.MARKER && c.kind() != Change.Kind.SCHEMA) {
                            seen.incrementAndGet();
                            if (c.table().endsWith("history") && c.key().get(0).equals(last)) {
                                done.countDown();
                            }
                        }
                    }
                    return true;
                }, false))) {
            if (!done.await(30, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the capture did not reach the backlog's end: " + stream.failure());
            }
        }
        double s = seconds(t0);
        say("capture ceiling: %,d changes read and converted in %.2f s", seen.get(), s);
        return count / s;
    }

    private static void migrate(ControlStore store, String id, EmbeddedMariaDb source, String target,
                                Map<String, String> env, String stopWhen, boolean pauseInCatchUp) {
        String yaml = String.join("\n", "id: " + id,
                "source: {url: '" + source.jdbcUrl() + "', user: root, password: ''}", target,
                "scope: {tables: [accounts, history]}", "schema: create",
                "data: {type: scan, chunk_rows: 50000, parallelism: 2}",
                "cdc: {method: binlog, heartbeat_interval: 1s}",
                "continuous: {enabled: true, stop_when: " + stopWhen + "}", "");
        ManifestDocument doc = new ManifestReader(env::get).document(yaml, "bench", ManifestReader.Purpose.RUN);
        BenchRuns.migrate(store, id, doc, pauseInCatchUp);
    }

    private static void check(String who, String expected, String got) {
        if (!expected.equals(got)) {
            throw new IllegalStateException(who + "'s copy differs: source " + expected + ", copy " + got);
        }
        say("%s's copy equals the source (history count:sum(aid)/sum(abalance) %s)", who, got);
    }

    interface Connect {
        Connection get() throws SQLException;
    }

    private static String single(Connect connect, String sql) throws SQLException {
        try (Connection c = connect.get(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
