package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
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
 * kill -9 of the migrating process (the runnable jar in a child JVM) while a pgbench-like writer hammers the source:
 * once mid-backfill, then twice while the stream applies batches (with this write rate a batch is nearly always in
 * flight: killed mid-apply, or between a target commit and the position's save). Each restart resumes from the
 * stored chunk statuses and confirmed position; at the end the tables are equal row for row.
 */
class CdcKillIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "kill-pw";

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84))",
                "INSERT INTO accounts SELECT g, g / 1000, 0, '' FROM generate_series(1, 120000) g",
                "CREATE TABLE history (id bigserial PRIMARY KEY, aid int, delta int, at timestamptz DEFAULT now())",
                "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void resumesAfterKillsMidBackfillAndMidApplyAndEndsEqual() throws Exception {
        Path manifest = dir.resolve("m.yaml");
        Files.writeString(manifest, String.join("\n", "id: killed-cdc",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [accounts, history]}",
                "data: {type: scan, chunk_rows: 3000, parallelism: 2, rows_per_second: 20000}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {stop_when: manual}", ""));
        String store = dir.resolve("store").toString();
        Writer writer = new Writer();
        Thread writing = new Thread(writer, "pgbench-like");
        writing.start();
        try (ControlStore cs = ControlStore.open(store, Map.<String, String>of()::get)) {
            Process first = migrate(manifest, store, "first.log");
            long runId = awaitPassed(cs, first, 5);
            first.destroyForcibly();
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(cs.runs().chunks(runId, null)).as("killed mid-backfill")
                    .anyMatch(c -> c.status() != ChunkStatus.PASS);

            Process second = migrate(manifest, store, "second.log", "--prev-run", String.valueOf(runId));
            awaitPhase(cs, second, Phase.CATCH_UP);
            long applied0 = writer.ops.get();
            Thread.sleep(2500);
            second.destroyForcibly();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(writer.ops.get()).as("the writer kept writing").isGreaterThan(applied0);

            Process third = migrate(manifest, store, "third.log");
            Thread.sleep(4000);
            assertThat(third.isAlive()).as(Files.readString(dir.resolve("third.log"))).isTrue();
            third.destroyForcibly();
            assertThat(third.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            writer.stop.set(true);
            writing.join();
        }
        assertThat(writer.failure.get()).isNull();
        assertThat(writer.ops.get()).isGreaterThan(500);

        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun last = CliRun.of(Map.of("PW", PW), "migrate", "-f", manifest.toString(), "--store", store);
        assertThat(last.exitCode()).as(last.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "public.accounts", "aid");
            TableComparison.assertEqual(s, t, "public.history", "id");
        }
    }

    private Process migrate(Path manifest, String store, String log, String... more) throws Exception {
        return ChildMigrate.start(manifest, store, dir.resolve(log), Map.of("PW", PW), more);
    }

    private static long awaitPassed(ControlStore cs, Process child, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            assertThat(child.isAlive()).as("the run is still going").isTrue();
            List<RunRecord> runs = cs.migrations().find("killed-cdc").isPresent() ? cs.runs().list("killed-cdc")
                    : List.of();
            if (!runs.isEmpty() && cs.runs().chunks(runs.get(0).runId(), ChunkStatus.PASS).size() >= n) {
                return runs.get(0).runId();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no " + n + " chunks passed in time");
    }

    private void awaitPhase(ControlStore cs, Process child, Phase phase) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (cs.migrations().get("killed-cdc").status().phase() != phase) {
            assertThat(child.isAlive()).as(Files.readString(dir.resolve("second.log"))).isTrue();
            assertThat(System.nanoTime()).as("reaches " + phase.wire()).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** pgbench's TPC-B-like transaction (update a balance, log it) plus inserts and deletes of accounts. */
    private static final class Writer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong ops = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        @Override
        public void run() {
            Random r = new Random(7);
            try (Connection c = SOURCE.server().connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    long n = ops.incrementAndGet();
                    int aid = 1 + r.nextInt(120000);
                    int delta = r.nextInt(10001) - 5000;
                    st.execute("UPDATE accounts SET abalance = abalance + " + delta + " WHERE aid = " + aid);
                    st.execute("INSERT INTO history (aid, delta) VALUES (" + aid + ", " + delta + ")");
                    if (n % 10 == 0) {
                        st.execute("DELETE FROM accounts WHERE aid = " + (1 + r.nextInt(120000)));
                        st.execute("INSERT INTO accounts VALUES (" + (200000 + n) + ", 0, " + delta + ", 'new')");
                    }
                    c.commit();
                }
            } catch (SQLException | RuntimeException e) {
                failure.set(e);
            }
        }
    }
}
