package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change stream whose slot is dropped while chunks copy stops the copy at once (not after the last chunk) and fails
 * the migration as a source problem that cannot resume: the message says so and names the way out, and a rerun is
 * refused rather than streaming from a new slot.
 */
class CdcStreamFailureIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "sf-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance int)",
                "INSERT INTO accounts SELECT g, g FROM generate_series(1, 40000) g", "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void aStreamFailureDuringTheCopyStopsTheCopyAndFailsTheMigration() throws Exception {
        Path manifest = dir.resolve("sf.yaml");
        Files.writeString(manifest, String.join("\n",
                "id: sf",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [public.accounts]}",
                "schema: create",
                // 40 chunks at 2,000 rows/s: about 20 s of copying, far longer than the test needs
                "data: {type: scan, chunk_rows: 1000, parallelism: 1, rows_per_second: 2000}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {enabled: true, stop_when: in_sync}",
                ""));
        String store = dir.resolve("store").toString();
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store));
        long runId = awaitFirstPassChunk(store, migrate);

        // the stream's connection is cut and its slot dropped under it
        SOURCE.server().execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                + "WHERE active_pid IS NOT NULL");
        dropSlot();

        CliRun run = migrate.get(60, TimeUnit.SECONDS);
        assertThat(run.exitCode()).as("a source problem: " + run.all()).isEqualTo(4);
        // no resume is promised: the changes after the confirmed position went with the slot
        assertThat(run.all()).contains("the change stream cannot resume: its replication slot",
                "no longer exists on the source (dropped)", "are no longer kept for it",
                "Way out: tandem abort sf, then migrate again").doesNotContain("resumes from");
        try (ControlStore cs = ControlStore.openExisting(store, ENV::get)) {
            assertThat(cs.migrations().find("sf").orElseThrow().status().state().toString()).isEqualToIgnoringCase(
                    "failed");
            long notCopied = cs.runs().chunks(runId, null).stream()
                    .filter(c -> c.status() != ChunkStatus.PASS).count();
            assertThat(notCopied).as("the copy stopped early").isGreaterThan(10);
        }
        // a rerun does not start a stream that would make a new slot and skip the changes in between
        CliRun rerun = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store, "--prev-run",
                String.valueOf(runId));
        assertThat(rerun.exitCode()).as(rerun.all()).isEqualTo(4);
        assertThat(rerun.all()).contains("cannot resume the forward stream of sf: its replication slot",
                "abort the migration (tandem abort sf)");
    }

    private long awaitFirstPassChunk(String store, CompletableFuture<CliRun> migrate) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            assertThat(System.nanoTime()).as("a chunk is copied").isLessThan(deadline);
            assertThat(migrate).as("migrate still running").isNotDone();
            try (ControlStore cs = ControlStore.openExisting(store, ENV::get)) {
                var m = cs.migrations().find("sf");
                if (m.isPresent() && m.get().status().phase() == Phase.BACKFILL) {
                    var runs = cs.runs().list("sf");
                    if (!runs.isEmpty()) {
                        long id = runs.get(runs.size() - 1).runId();
                        if (cs.runs().chunks(id, null).stream().anyMatch(c -> c.status() == ChunkStatus.PASS)) {
                            return id;
                        }
                    }
                }
            } catch (RuntimeException e) {
                // the store is not there yet
            }
            Thread.sleep(100);
        }
    }

    private static void dropSlot() throws InterruptedException {
        for (int i = 0; ; i++) {
            try {
                SOURCE.server().execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots");
                return;
            } catch (RuntimeException e) {
                if (i > 50) {
                    throw e;
                }
                Thread.sleep(100); // still active for a moment after the terminate
            }
        }
    }
}
