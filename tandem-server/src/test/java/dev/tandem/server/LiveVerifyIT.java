package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem verify} while the migration streams (catch-up) and two writers hammer the source: differences in
 * flight must not be reported. A whole verify pass under the writers reports no drift; then a changed value, a
 * deleted row and an extra row are written on the target behind the stream's back (in rows the writers leave alone):
 * exactly those are reported, {@code --repair} fixes them (conditionally, while the stream keeps applying), a verify
 * after that is clean, and once the writers stop the tables are equal row for row.
 */
class LiveVerifyIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "live-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The writers touch ids up to this; drift is injected above it. */
    private static final int WRITTEN = 30_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL, "
                        + "note text, updated_at timestamptz DEFAULT now())",
                "INSERT INTO accounts SELECT g, 'owner ' || g, 1000, CASE WHEN g % 3 = 0 THEN 'n' || g END "
                        + "FROM generate_series(1, 40000) g",
                "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void reportsOnlyRealDriftWhileTheStreamRuns() throws Exception {
        Path manifest = dir.resolve("live.yaml");
        Files.writeString(manifest, String.join("\n",
                "id: live-verify",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [accounts]}",
                "schema: create",
                "data: {type: scan, chunk_rows: 5000, parallelism: 2}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {enabled: true, stop_when: manual}",
                // only tandem verify looks for drift here
                "validation: {continuous: false}",
                ""));
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store()));
        StoreWait.catchUp(store(), ENV, "live-verify", migrate);

        List<SourceWriter> writers = List.of(new Writer(1).start(), new Writer(2).start());
        try {
            while (writers.stream().mapToLong(w -> w.ops.get()).sum() < 500) {
                Thread.sleep(20);
            }
            // 1. a whole pass under the writers: differences in flight are never drift
            long before = writers.stream().mapToLong(w -> w.ops.get()).sum();
            JsonNode busy = verify(manifest, 0);
            long during = writers.stream().mapToLong(w -> w.ops.get()).sum() - before;
            System.out.printf("verify under %d source writes: %s rows in flight, drift %s%n", during,
                    busy.path("in_flight_rows"), busy.path("differing_rows"));
            assertThat(busy.path("lag_aware").asBoolean()).isTrue();
            assertThat(busy.path("differing_rows").asLong()).isZero();
            assertThat(during).as("the writers ran through the pass").isGreaterThan(200);

            // 2. drift behind the stream's back, in rows the writers leave alone
            TARGET.server().execute("UPDATE accounts SET balance = balance + 5 WHERE id = 31000",
                    "UPDATE accounts SET note = 'forged' WHERE id = 35001",
                    "DELETE FROM accounts WHERE id = 36000",
                    "INSERT INTO accounts (id, owner, balance) VALUES (900001, 'nobody', 0)");
            JsonNode found = verify(manifest, 1);
            assertThat(found.path("differing_rows").asLong()).isEqualTo(4);
            JsonNode t = found.path("tables").get(0);
            assertThat(t.path("mismatched_rows").asLong()).isEqualTo(2);
            assertThat(t.path("extra_rows_source").asLong()).isEqualTo(1);
            assertThat(t.path("extra_rows_target").asLong()).isEqualTo(1);
            try (ControlStore cs = ControlStore.openExisting(store(), ENV::get)) {
                Set<String> stored = new TreeSet<>();
                for (DriftLog.DriftRow d : cs.drift().list(found.path("run_id").asLong())) {
                    stored.add(d.keyValues() + " " + d.kind().wire() + (d.columns() == null ? "" : " " + d.columns()));
                }
                assertThat(stored).containsExactlyInAnyOrder("[\"31000\"] mismatch [\"balance\"]",
                        "[\"35001\"] mismatch [\"note\"]", "[\"36000\"] missing_on_target",
                        "[\"900001\"] extra_on_target");
            }

            // 3. repair while the stream keeps applying, then clean
            JsonNode repaired = verify(manifest, 0, "--repair");
            assertThat(repaired.path("differing_rows").asLong()).isEqualTo(4);
            assertThat(repaired.path("unrepaired_rows").asLong()).isZero();
            JsonNode clean = verify(manifest, 0);
            assertThat(clean.path("differing_rows").asLong()).isZero();

            // the newest verification is clean and the lag small: the gates of catch_up hold (tandem advance)
            CliRun advance = CliRun.of(ENV, "advance", "live-verify", "--store", store());
            assertThat(advance.exitCode()).as(advance.all()).isZero();
            assertThat(advance.out()).contains("running (phase shadow)");
        } finally {
            for (SourceWriter w : writers) {
                assertThat(w.stopAndJoin()).isNull();
            }
        }

        // 4. writers stopped: a lag-aware verify waits until the target holds every write, then nothing is in
        //    flight; an independent comparison row for row agrees; the stream stops on request
        JsonNode last = verify(manifest, 0);
        assertThat(last.path("in_flight_rows").asLong()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection tc = TARGET.server().connect()) {
            TableComparison.assertEqual(s, tc, "accounts", "id");
        }
        CliRun stop = CliRun.of(ENV, "stop", "live-verify", "--store", store());
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun first = migrate.get(120, TimeUnit.SECONDS);
        assertThat(first.exitCode()).as(first.all()).isZero();

        // tandem resume continues it from the stored manifest; tandem pause stops it again
        CompletableFuture<CliRun> resumed = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "resume", "live-verify", "--store", store()));
        try (ControlStore cs = ControlStore.openExisting(store(), ENV::get)) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (cs.leases().liveHolder("live-verify").isEmpty() && !resumed.isDone()
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
        }
        CliRun pause = CliRun.of(ENV, "pause", "live-verify", "--store", store());
        assertThat(pause.exitCode()).as(pause.all() + resumed.getNow(null)).isZero();
        CliRun second = resumed.get(120, TimeUnit.SECONDS);
        assertThat(second.exitCode()).as(second.all()).isZero();
        assertThat(second.all()).contains("streaming stopped by tandem stop");
        try (ControlStore cs = ControlStore.openExisting(store(), ENV::get)) {
            assertThat(cs.migrations().get("live-verify").status().toString()).isEqualTo("paused/shadow");
        }
    }

    private JsonNode verify(Path manifest, int exit, String... more) throws Exception {
        String[] args = new String[5 + more.length];
        args[0] = "verify";
        args[1] = "-f";
        args[2] = manifest.toString();
        args[3] = "--json";
        args[4] = "--store=" + store();
        System.arraycopy(more, 0, args, 5, more.length);
        CliRun run = CliRun.of(ENV, args);
        assertThat(run.exitCode()).as(run.all()).isEqualTo(exit);
        return JSON.readTree(run.out());
    }

    private String store() {
        return dir.resolve("store").toString();
    }

    /**
     * Single-row and multi-row transactions as fast as the source takes them: balance moves, notes, inserts of new
     * ids, deletes — all within ids up to {@link #WRITTEN} or new ids far above the injected ones.
     */
    private static final class Writer extends SourceWriter {
        private final int seed;

        Writer(int seed) {
            super(SOURCE.server(), seed);
            this.seed = seed;
        }

        @Override
        void step(Connection c, Statement st, Random r, long n) throws SQLException {
            int id = 1 + r.nextInt(WRITTEN);
            switch (r.nextInt(6)) {
                case 0, 1 -> st.execute("UPDATE accounts SET balance = balance + " + (1 + r.nextInt(9))
                        + ", updated_at = now() WHERE id = " + id);
                case 2 -> st.execute("UPDATE accounts SET note = 'w" + seed + "-" + n + "' WHERE id = " + id);
                case 3 -> st.execute("INSERT INTO accounts (id, owner, balance) VALUES (" + (1_000_000L * seed + n)
                        + ", 'new', " + n + ")");
                case 4 -> st.execute("DELETE FROM accounts WHERE id = " + (id % 50 == 0 ? id : -1));
                default -> {
                    // a transfer; rows locked in id order, so the two writers never deadlock
                    int other = 1 + r.nextInt(WRITTEN);
                    c.setAutoCommit(false);
                    st.execute("UPDATE accounts SET balance = balance - 3 WHERE id = " + Math.min(id, other));
                    st.execute("UPDATE accounts SET balance = balance + 3 WHERE id = " + Math.max(id, other));
                    c.commit();
                    c.setAutoCommit(true);
                }
            }
        }
    }
}
