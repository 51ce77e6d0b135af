package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cdc.apply: source_transactions} through the CLI: a writer moves money between accounts on the source (every
 * transaction keeps the total balance, and the transfer log's sum equal to a running total in another table); every
 * 200th transaction touches 5,001 rows, more than one apply batch. From the end of the backfill on, a reader on the
 * target checks both invariants in one snapshot, again and again, while the migrating process is killed (kill -9)
 * and restarted twice: it must never see a state the source did not have, neither a transaction split over batches
 * nor one applied again after a restart over newer rows. At the end the tables are equal.
 */
class SourceTransactionsIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "tx-pw";
    private static final int ACCOUNTS = 20_000;
    private static final long TOTAL = 100L * ACCOUNTS;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, 100 FROM generate_series(1, " + ACCOUNTS + ") g",
                "CREATE TABLE transfers (id bigserial PRIMARY KEY, src int, dst int, amount int NOT NULL)",
                "CREATE TABLE totals (id int PRIMARY KEY, transferred bigint NOT NULL)",
                "INSERT INTO totals VALUES (1, 0)",
                "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void theTargetOnlyEverShowsSourceStatesAcrossBatchesAndKills() throws Exception {
        Path manifest = dir.resolve("m.yaml");
        Files.writeString(manifest, String.join("\n", "id: tx-cdc",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [accounts, transfers, totals]}",
                "data: {type: scan, chunk_rows: 2000, parallelism: 2}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s, apply: source_transactions}",
                "continuous: {stop_when: manual}", ""));
        String store = dir.resolve("store").toString();
        Writer writer = new Writer();
        Thread writing = new Thread(writer, "transfers");
        writing.start();
        Observer observer = new Observer();
        Thread observing = new Thread(observer, "target-reader");
        // this process opens the store first: the children reach it through this one (as in CdcKillIT)
        try (ControlStore cs = ControlStore.open(store, Map.<String, String>of()::get)) {
            Process first = migrate(manifest, store, "first.log");
            long settleAt;
            awaitCatchUp(cs, first);
            // the copy's chunks were read at different moments; once the stream passed the last of them the
            // target is a state of the source, and from then on it must only ever be one
            settleAt = maxTransfer(SOURCE.server());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (maxTransfer(TARGET.server()) < settleAt) {
                assertThat(System.nanoTime()).as("the stream reaches the end of the backfill").isLessThan(deadline);
                Thread.sleep(50);
            }
            observing.start();
            long bigBefore = writer.big.get();
            Thread.sleep(5000);
            assertThat(writer.big.get()).as("big transactions ran while streaming").isGreaterThan(bigBefore);
            first.destroyForcibly();
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();

            // each later process is killed once the target moved under it a few times: a fixed window was sometimes
            // spent by a slow child JVM start alone in full runs on two cores (18 distinct totals, twice)
            Process second = migrate(manifest, store, "second.log");
            awaitMoves(observer, second, "second.log");
            second.destroyForcibly();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();

            Process third = migrate(manifest, store, "third.log");
            awaitMoves(observer, third, "third.log");
            third.destroyForcibly();
            assertThat(third.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            writer.stop.set(true);
            writing.join();
            observer.stop.set(true);
            observing.join(); // returns at once if it never started
        }
        System.out.printf("observer: %d target snapshots, %d distinct totals, %d violations%n", observer.reads.get(),
                observer.progress.get(), observer.violations.size());
        assertThat(writer.failure.get()).isNull();
        assertThat(observer.failure.get()).isNull();
        assertThat(observer.violations).as("states the source never had, seen on the target").isEmpty();
        assertThat(observer.reads.get()).as("target snapshots checked").isGreaterThan(100);
        assertThat(observer.progress.get()).as("the target moved while it was watched; the children said:\n%s",
                childLogs()).isGreaterThan(20);

        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun last = CliRun.of(Map.of("PW", PW), "migrate", "-f", manifest.toString(), "--store", store);
        assertThat(last.exitCode()).as(last.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "public.accounts", "id");
            TableComparison.assertEqual(s, t, "public.transfers", "id");
            TableComparison.assertEqual(s, t, "public.totals", "id");
            try (Statement st = t.createStatement();
                 ResultSet rs = st.executeQuery("SELECT to_regclass('tandem_apply_position') IS NULL")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("the applied-position record is removed when in sync").isTrue();
            }
        }
    }

    /** Waits (up to 90 s, the child alive) until the observer saw the target take 10 more distinct states. */
    private void awaitMoves(Observer observer, Process child, String log) throws Exception {
        long from = observer.progress.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (observer.progress.get() < from + 10) {
            assertThat(child.isAlive()).as(Files.readString(dir.resolve(log))).isTrue();
            assertThat(System.nanoTime()).as("the target moves under %s:%n%s", log, childLogs()).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** The last lines of each child's output. */
    private String childLogs() throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        for (String log : List.of("first.log", "second.log", "third.log")) {
            Path p = dir.resolve(log);
            if (Files.exists(p)) {
                List<String> lines = Files.readAllLines(p);
                b.append("--- ").append(log).append('\n').append(String.join("\n", lines.subList(Math.max(0,
                        lines.size() - 15), lines.size()))).append('\n');
            }
        }
        return b.toString();
    }

    private Process migrate(Path manifest, String store, String log) throws Exception {
        return ChildMigrate.start(manifest, store, dir.resolve(log), Map.of("PW", PW));
    }

    private void awaitCatchUp(ControlStore cs, Process child) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (cs.migrations().find("tx-cdc").map(r -> r.status().phase() != Phase.CATCH_UP).orElse(true)) {
            assertThat(child.isAlive()).as(Files.readString(dir.resolve("first.log"))).isTrue();
            assertThat(System.nanoTime()).as("reaches catch_up").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static long maxTransfer(EmbeddedPostgres server) throws SQLException {
        try (Connection c = server.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM transfers")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Transfers: small ones between two accounts, and every 200th one from 5,000 accounts to a 5,001st. */
    private static final class Writer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong ops = new AtomicLong();
        final AtomicLong big = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        @Override
        public void run() {
            Random r = new Random(11);
            try (Connection c = SOURCE.server().connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    long n = ops.incrementAndGet();
                    if (n % 200 == 0) {
                        int from = 1 + r.nextInt(ACCOUNTS - 5001);
                        int to = from + 5000;
                        st.execute("UPDATE accounts SET balance = balance - 1 WHERE id BETWEEN " + from + " AND "
                                + (to - 1));
                        st.execute("UPDATE accounts SET balance = balance + 5000 WHERE id = " + to);
                        transfer(st, -from, to, 5000);
                        big.incrementAndGet();
                    } else {
                        int a = 1 + r.nextInt(ACCOUNTS);
                        int b = 1 + (a + r.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                        int x = 1 + r.nextInt(50);
                        st.execute("UPDATE accounts SET balance = balance - " + x + " WHERE id = " + a);
                        st.execute("UPDATE accounts SET balance = balance + " + x + " WHERE id = " + b);
                        transfer(st, a, b, x);
                    }
                    c.commit();
                }
            } catch (SQLException | RuntimeException e) {
                failure.set(e);
            }
        }

        private static void transfer(Statement st, int src, int dst, int amount) throws SQLException {
            st.execute("INSERT INTO transfers (src, dst, amount) VALUES (" + src + ", " + dst + ", " + amount + ")");
            st.execute("UPDATE totals SET transferred = transferred + " + amount + " WHERE id = 1");
        }
    }

    /** Reads the target in one snapshot at a time and notes every state that breaks the source's invariants. */
    private static final class Observer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong reads = new AtomicLong();
        final AtomicLong progress = new AtomicLong();
        final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        @Override
        public void run() {
            long lastTotal = -1;
            try (Connection c = TARGET.server().connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                while (!stop.get()) {
                    try (ResultSet rs = st.executeQuery("SELECT (SELECT sum(balance) FROM accounts), "
                            + "(SELECT coalesce(sum(amount), 0) FROM transfers), "
                            + "(SELECT transferred FROM totals WHERE id = 1)")) {
                        rs.next();
                        long balances = rs.getLong(1);
                        long logged = rs.getLong(2);
                        long total = rs.getLong(3);
                        if (balances != TOTAL || logged != total) {
                            violations.add("balances " + balances + " (expected " + TOTAL + "), transfers " + logged
                                    + " vs total " + total);
                        }
                        if (total != lastTotal) {
                            progress.incrementAndGet();
                            lastTotal = total;
                        }
                    }
                    c.commit();
                    reads.incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (SQLException | RuntimeException e) {
                failure.set(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
