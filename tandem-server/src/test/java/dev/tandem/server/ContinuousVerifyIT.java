package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * Continuous verification during catch-up, through {@code tandem migrate}: while a writer changes the source, drift
 * on the target behind the stream's back — a row the writer leaves alone, changed on the target (found by the
 * background passes), and a row a target trigger alters as the stream applies it (found by re-verifying applied
 * rows) — is detected; the measured detection latency is printed. Nothing else is reported as drift. With {@code abort_thresholds: {drift_rows: 2}} a third
 * drifting row aborts the migration by itself: rolled_back, an audit row naming the threshold, the value and the
 * limit, the slot dropped. With {@code validation.repair: true} drift is repaired by itself and, repaired, never counts
 * toward the threshold; the tables end equal.
 */
class ContinuousVerifyIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "cv-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final String ID = "continuous-verify";
    /** The writer updates ids up to this. */
    private static final int WRITTEN = 20_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE TABLE stock (sku bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2))",
                "INSERT INTO stock SELECT g, 'item ' || g, 100, g / 100.0 FROM generate_series(1, 30000) g",
                "CREATE TABLE hot (id int PRIMARY KEY, hits bigint NOT NULL)",
                "INSERT INTO hot SELECT g, 0 FROM generate_series(1, 50) g",
                "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void detectsDriftInSecondsAndAbortsPastTheThreshold() throws Exception {
        Path manifest = dir.resolve("cv.yaml");
        Files.writeString(manifest, String.join("\n",
                "id: " + ID,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [stock, hot]}",
                "schema: create",
                "data: {type: scan, chunk_rows: 4000, parallelism: 2}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {enabled: true, stop_when: manual}",
                "validation: {continuous: true, rows_per_second: 20000}",
                "abort_thresholds: {drift_rows: 2}",
                ""));
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store()));
        StoreWait.catchUp(store(), ENV, ID, migrate);
        SourceWriter writer = new Writer().start();
        try (ControlStore cs = ControlStore.openExisting(store(), ENV::get)) {
            long run = StoreWait.continuousRun(cs, ID);
            Thread.sleep(3000); // the writer and the verification run a while: no drift

            // 1. a row nobody writes, changed on the target: the background pass finds it
            long t0 = System.nanoTime();
            TARGET.server().execute("UPDATE stock SET qty = 7 WHERE sku = 25000");
            double passLatency = awaitDrift(cs, run, "[\"25000\"]", t0, migrate);

            // 2. a target trigger (ENABLE ALWAYS fires even for replicated rows) corrupts a row the stream applies:
            //    the re-verification of applied rows finds it
            TARGET.server().execute("CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS "
                            + "$$ BEGIN IF NEW.id = 50 THEN NEW.hits := NEW.hits + 1; END IF; RETURN NEW; END $$",
                    "CREATE TRIGGER bump BEFORE INSERT OR UPDATE ON hot FOR EACH ROW EXECUTE FUNCTION bump()",
                    "ALTER TABLE hot ENABLE ALWAYS TRIGGER bump");
            long t1 = System.nanoTime();
            try (Connection s = SOURCE.server().connect(); Statement st = s.createStatement()) {
                st.execute("UPDATE hot SET hits = 12345 WHERE id = 50"); // the writer leaves row 50 alone
            }
            double keyLatency = awaitDrift(cs, run, "[\"50\"]", t1, migrate);
            System.out.printf("drift detection latency (injection to stored report): background pass %.2f s, "
                    + "applied-row recheck %.2f s%n", passLatency, keyLatency);

            assertThat(migrate).as("below drift_rows: 2 the migration goes on").isNotDone();
            Set<String> drift = new TreeSet<>();
            cs.drift().list(run).forEach(d -> drift.add(d.table() + " " + d.keyValues() + " " + d.kind().wire()));
            assertThat(drift).as("nothing but the injected rows under a busy writer")
                    .containsExactlyInAnyOrder("public.stock [\"25000\"] mismatch", "public.hot [\"50\"] mismatch");

            // 3. a third drifting row crosses drift_rows: 2
            TARGET.server().execute("DELETE FROM stock WHERE sku = 29999");
            CliRun aborted = migrate.get(3, TimeUnit.MINUTES);
            System.out.println(aborted.all());
            assertThat(aborted.exitCode()).as(aborted.all()).isEqualTo(1);
            assertThat(aborted.all()).contains("abort threshold drift_rows crossed: 3 > limit 2");
            assertThat(cs.migrations().get(ID).status().state()).isEqualTo(MigrationState.ROLLED_BACK);
            List<AuditEntry> audit = cs.audit().list(ID);
            Optional<AuditEntry> abort = audit.stream().filter(a -> a.to() != null
                    && a.to().state() == MigrationState.ROLLING_BACK).findFirst();
            assertThat(abort).isPresent();
            assertThat(abort.get().actor()).isEqualTo("tandem (abort_thresholds)");
            assertThat(abort.get().detail()).isEqualTo("abort threshold drift_rows crossed: 3 > limit 2");
            assertThat(cs.drift().list(run)).extracting(DriftLog.DriftRow::keyValues).contains("[\"29999\"]");
        } finally {
            assertThat(writer.stopAndJoin()).isNull();
        }
        try (Connection s = SOURCE.server().connect(); Statement st = s.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
            rs.next();
            assertThat(rs.getInt(1)).as("slot dropped by the abort").isZero();
        }
    }

    @Test
    void repairsDriftByItselfWhenConfigured() throws Exception {
        TARGET.server().execute("CREATE DATABASE repaired OWNER migrator");
        String id = "cv-repair";
        Path manifest = dir.resolve("repair.yaml");
        Files.writeString(manifest, String.join("\n",
                "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl("repaired") + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [stock]}",
                "schema: create",
                "data: {type: scan, chunk_rows: 4000, parallelism: 2}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {enabled: true, stop_when: manual}",
                "validation: {continuous: true, repair: true, rows_per_second: 20000}",
                // repaired drift does not count: a row repaired at once never aborts
                "abort_thresholds: {drift_rows: 0}",
                ""));
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store()));
        StoreWait.catchUp(store(), ENV, id, migrate);
        SourceWriter writer = new Writer().start();
        try (ControlStore cs = ControlStore.openExisting(store(), ENV::get);
             Connection t = TARGET.server().connect("repaired", "migrator", PW);
             Statement st = t.createStatement()) {
            long run = StoreWait.continuousRun(cs, id);
            st.execute("UPDATE stock SET qty = 7 WHERE sku = 25000");
            st.execute("DELETE FROM stock WHERE sku = 26000");
            st.execute("INSERT INTO stock VALUES (900000, 'forged', 1, 1)");
            assertThat(StoreWait.repairedDrift(cs, run, 3, migrate)).containsExactlyInAnyOrder("[\"25000\"] mismatch", "[\"26000\"] missing_on_target",
                    "[\"900000\"] extra_on_target");
            assertThat(cs.drift().list(run)).as("nothing else").hasSize(3);
        } finally {
            assertThat(writer.stopAndJoin()).isNull();
        }
        CliRun stop = CliRun.of(ENV, "stop", id, "--store", store());
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        assertThat(migrate.get(2, TimeUnit.MINUTES).exitCode()).isZero();
        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun finish = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(finish.exitCode()).as(finish.all()).isZero();
        try (Connection s = SOURCE.server().connect();
             Connection t = TARGET.server().connect("repaired", "migrator", PW)) {
            TableComparison.assertEqual(s, t, "stock", "sku");
        }
    }

    /** Seconds from {@code t0} until the drift of {@code key} is stored (fails after 2 minutes). */
    private static double awaitDrift(ControlStore cs, long run, String key, long t0, CompletableFuture<CliRun> migrate)
            throws InterruptedException {
        long deadline = t0 + TimeUnit.MINUTES.toNanos(2);
        while (System.nanoTime() < deadline) {
            if (cs.drift().list(run).stream().anyMatch(d -> d.keyValues().equals(key))) {
                return (System.nanoTime() - t0) / 1e9;
            }
            if (migrate.isDone()) {
                throw new AssertionError("migrate ended: " + migrate.join().all());
            }
            Thread.sleep(50);
        }
        throw new AssertionError("drift of " + key + " not detected within 2 minutes");
    }

    private String store() {
        return dir.resolve("store").toString();
    }

    /** Updates stock rows up to {@link #WRITTEN} and the hot rows 1..49 until stopped. */
    private static final class Writer extends SourceWriter {
        Writer() {
            super(SOURCE.server(), 7);
        }

        @Override
        void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
            if (r.nextBoolean()) {
                st.execute("UPDATE stock SET qty = qty - 1 WHERE sku = " + (1 + r.nextInt(WRITTEN)));
            } else {
                st.execute("UPDATE hot SET hits = hits + 1 WHERE id = " + (1 + r.nextInt(49)));
            }
            Thread.sleep(1);
        }
    }
}
