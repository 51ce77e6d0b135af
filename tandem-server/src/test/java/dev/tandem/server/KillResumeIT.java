package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real kill -9 of the migrating process (the runnable jar, in a child JVM) in the middle of a run; a rerun with
 * --prev-run finishes the job, copies only what the first run had not committed, and the tables end equal.
 */
class KillResumeIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "kill-pw";

    @TempDir
    Path dir;

    @BeforeAll
    static void roles() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    private Path manifest(String id, String table, String data) throws Exception {
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [" + table + "]}",
                "data: {type: scan, " + data + "}",
                "cdc: {method: none}", ""));
        return file;
    }

    /** {@code tandem migrate} as a user starts it: the runnable jar, in its own JVM. */
    private Process migrateInChildJvm(Path manifest, String store, String log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", Path.of("target", "tandem.jar").toAbsolutePath().toString(),
                "migrate", "-f", manifest.toString(), "--store", store)
                .redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile());
        pb.environment().put("PW", PW);
        return pb.start();
    }

    @Test
    void resumesAfterKillDashNineWithoutRecopyingPassedChunks() throws Exception {
        SOURCE.server().execute("CREATE TABLE accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, "
                + "filler char(84))", "INSERT INTO accounts SELECT g, g / 1000, 0, '' FROM generate_series(1, 120000) g",
                "ANALYZE");
        Path manifest = manifest("killed", "accounts", "chunk_rows: 3000, parallelism: 2, rows_per_second: 20000");
        String store = dir.resolve("store").toString();
        Process first = migrateInChildJvm(manifest, store, "first.log");

        long runId;
        Map<Integer, String> passedFingerprints = new HashMap<>();
        try (ControlStore cs = ControlStore.open(store, Map.<String, String>of()::get)) {
            runId = awaitPassedChunks(cs, first, 4);
            first.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
            assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
            List<ChunkRecord> chunks = cs.runs().chunks(runId, null);
            assertThat(chunks).as("the kill landed mid-run").anyMatch(c -> c.status() != ChunkStatus.PASS);
            try (Connection t = TARGET.server().connect()) {
                for (ChunkRecord c : cs.runs().chunks(runId, ChunkStatus.PASS)) {
                    passedFingerprints.put(c.chunkNo(), xmins(t, c));
                }
            }
        }
        assertThat(passedFingerprints).hasSizeGreaterThanOrEqualTo(4);

        CliRun rerun = CliRun.of(Map.of("PW", PW), "migrate", "-f", manifest.toString(), "--store", store,
                "--prev-run", String.valueOf(runId));
        assertThat(rerun.exitCode()).as(rerun.all() + "\nfirst run:\n" + Files.readString(dir.resolve("first.log")))
                .isZero();

        try (ControlStore cs = ControlStore.open(store, Map.<String, String>of()::get);
             Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            List<RunRecord> runs = cs.runs().list("killed");
            assertThat(runs).hasSize(2);
            RunRecord second = runs.get(0);
            assertThat(second.prevRunId()).isEqualTo(runId);
            assertThat(second.status()).isEqualTo(RunStatus.ENDED);
            assertThat(runs.get(1).status()).as("the killed run never ended").isEqualTo(RunStatus.STARTED);
            List<ChunkRecord> redone = cs.runs().chunks(second.runId(), null);
            assertThat(redone).extracting(ChunkRecord::chunkNo).doesNotContainAnyElementsOf(passedFingerprints.keySet());
            assertThat(redone.size() + passedFingerprints.size())
                    .isEqualTo(cs.runs().chunks(runId, null).size());
            for (ChunkRecord c : cs.runs().chunks(runId, ChunkStatus.PASS)) {
                assertThat(xmins(t, c)).as("chunk " + c.chunkNo() + " was not copied again")
                        .isEqualTo(passedFingerprints.get(c.chunkNo()));
            }
            TableComparison.assertEqual(s, t, "public.accounts", "aid");
            assertThat(cs.migrations().get("killed").status().state().wire()).isEqualTo("completed");
        }
    }

    @Test
    void stopsCleanlyOnCtrlCAndResumes() throws Exception {
        SOURCE.server().execute("CREATE TABLE orders (id bigint PRIMARY KEY, note text)",
                "INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 60000) g", "ANALYZE");
        Path manifest = manifest("interrupted", "orders", "chunk_rows: 2000, parallelism: 2, rows_per_second: 8000");
        String store = dir.resolve("store").toString();
        Process child = migrateInChildJvm(manifest, store, "ctrl-c.log");
        long runId;
        try (ControlStore cs = ControlStore.open(store, Map.<String, String>of()::get)) {
            runId = awaitPassedChunks(cs, child, "interrupted", 3);
        }
        new ProcessBuilder("kill", "-INT", String.valueOf(child.pid())).start().waitFor();
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("stopped after Ctrl-C").isTrue();
        String log = Files.readString(dir.resolve("ctrl-c.log"));
        assertThat(child.exitValue()).as(log).isEqualTo(130);
        assertThat(log).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(log).contains("Stopping: chunks in flight roll back", "interrupted; continue with: tandem migrate "
                + "-f MANIFEST --prev-run " + runId);
        try (ControlStore cs = ControlStore.open(store, Map.<String, String>of()::get)) {
            assertThat(cs.migrations().get("interrupted").status().state().wire()).isEqualTo("paused");
            assertThat(cs.runs().chunks(runId, ChunkStatus.STARTED)).as("nothing left in flight").isEmpty();
            assertThat(cs.runs().chunks(runId, null)).anyMatch(c -> c.status() != ChunkStatus.PASS);
            assertThat(cs.runs().get(runId).status()).isEqualTo(RunStatus.STARTED);
        }
        CliRun rerun = CliRun.of(Map.of("PW", PW), "migrate", "-f", manifest.toString(), "--store", store,
                "--prev-run", String.valueOf(runId));
        assertThat(rerun.exitCode()).as(rerun.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "public.orders", "id");
        }
    }

    /** Waits until the child's run has {@code n} chunks PASS; returns its run id. */
    private static long awaitPassedChunks(ControlStore cs, Process child, int n) throws InterruptedException {
        return awaitPassedChunks(cs, child, "killed", n);
    }

    private static long awaitPassedChunks(ControlStore cs, Process child, String id, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            assertThat(child.isAlive()).as("the first run is still going").isTrue();
            List<RunRecord> runs = cs.migrations().find(id).isPresent() ? cs.runs().list(id) : List.of();
            if (!runs.isEmpty() && cs.runs().chunks(runs.get(0).runId(), ChunkStatus.PASS).size() >= n) {
                return runs.get(0).runId();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the first run did not pass " + n + " chunks in time");
    }

    /** The transaction ids that wrote the chunk's rows on the target: they change if the chunk is copied again. */
    private static String xmins(Connection t, ChunkRecord c) throws Exception {
        String lower = c.keyMin() == null ? "" : " AND aid > " + c.keyMin().replaceAll("[\\[\\]\"]", "");
        String upper = c.keyMax() == null ? "" : " AND aid <= " + c.keyMax().replaceAll("[\\[\\]\"]", "");
        return BackfillIT.single(t, "SELECT count(*) || ':' || string_agg(DISTINCT xmin::text, ',') FROM accounts "
                + "WHERE true" + lower + upper);
    }
}
