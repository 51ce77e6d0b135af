package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream that stops is told apart by the side that failed and whether it can resume: a source restarted while
 * streaming is reconnected (from the confirmed position, under a writer, the tables equal at the end); a source down
 * longer than {@code cdc.reconnect_timeout} fails the migration as a source problem (exit 4) that a rerun resumes; a
 * target that refuses a change fails it as a target problem (exit 5). (A dropped slot: {@link CdcStreamFailureIT}.)
 */
class StreamFailuresIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "sfl-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final int ROWS = 5_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        for (String t : new String[] {"restarted", "lost", "refused"}) {
            SOURCE.server().execute("CREATE TABLE " + t + " (id int PRIMARY KEY, balance bigint NOT NULL)",
                    "INSERT INTO " + t + " SELECT g, g FROM generate_series(1, " + ROWS + ") g");
        }
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'", "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void aSourceRestartedWhileStreamingIsReconnectedAndTheTablesEndEqual() throws Exception {
        String store = dir.resolve("store").toString();
        Path manifest = manifest("restarted", "");
        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, "restarted", migrate);
        write("restarted", 1, 2_000);

        SOURCE.server().restart(Duration.ofSeconds(3)); // fast shutdown: the stream's connection is cut
        SourceWriter after = writer("restarted", 2).start(); // writes while the stream is still reconnecting
        Thread.sleep(4_000);
        assertThat(after.stopAndJoin()).isNull();
        assertThat(after.ops.get()).isGreaterThan(100);
        assertThat(migrate).as("the migration rode out the restart").isNotDone();

        converge("restarted", "t_restarted");
        CliRun stop = CliRun.of(ENV, "stop", "restarted", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = migrate.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.all()).contains("the change stream lost the source", "reconnecting for up to 300 s",
                "the change stream is back on the source, resumed from its confirmed position");
    }

    @Test
    void aSourceDownLongerThanTheReconnectTimeoutIsASourceProblemThatARerunResumes() throws Exception {
        String store = dir.resolve("store").toString();
        Path manifest = manifest("lost", ", reconnect_timeout: 2s");
        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, "lost", migrate);
        write("lost", 3, 1_000);

        CompletableFuture<Void> down = CompletableFuture.runAsync(() -> {
            try {
                SOURCE.server().restart(Duration.ofSeconds(12));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CliRun failed = migrate.get(2, TimeUnit.MINUTES);
        assertThat(failed.exitCode()).as("a source problem: " + failed.all()).isEqualTo(4);
        assertThat(failed.all()).contains("the change stream stopped: the source stayed unreachable for",
                "cdc.reconnect_timeout 2 s", "it resumes from the confirmed position");
        down.get(2, TimeUnit.MINUTES);

        write("lost", 4, 1_000); // changes made while nothing streamed wait in the slot
        CompletableFuture<CliRun> again = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, "lost", again);
        converge("lost", "t_lost");
        CliRun stop = CliRun.of(ENV, "stop", "lost", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = again.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
    }

    @Test
    void aTargetThatRefusesAChangeIsATargetProblem() throws Exception {
        String store = dir.resolve("store").toString();
        Path manifest = manifest("refused", "");
        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, "refused", migrate);
        try (Connection t = TARGET.server().connect("t_refused", "migrator", PW); Statement st = t.createStatement()) {
            st.execute("ALTER TABLE refused ADD CONSTRAINT not_negative CHECK (balance >= 0)");
        }
        SOURCE.server().execute("UPDATE refused SET balance = -1 WHERE id = 7");
        CliRun run = migrate.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as("a target problem: " + run.all()).isEqualTo(5);
        assertThat(run.all()).contains("the change stream stopped: applying to the target failed", "not_negative",
                "it resumes from the confirmed position");
        CliRun abort = CliRun.of(ENV, "abort", "refused", "--store", store);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
    }

    private Path manifest(String table, String cdcExtra) throws Exception {
        TARGET.server().execute("CREATE DATABASE t_" + table);
        Path file = dir.resolve(table + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + table,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl("t_" + table) + "', user: migrator, "
                        + "password: ${env:PW}}",
                "scope: {tables: [public." + table + "]}", "schema: create",
                "cdc: {method: logical_replication, heartbeat_interval: 1s" + cdcExtra + "}",
                "failure_handling: {type: retry_then_all, retry_count: 1}",
                "continuous: {stop_when: manual}", ""));
        return file;
    }

    private static CompletableFuture<CliRun> migrate(Path manifest, String store) {
        return CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store",
                store));
    }

    /** A writer on {@code table} for {@code millis}, while the stream runs. */
    private static void write(String table, long seed, long millis) throws Exception {
        SourceWriter w = writer(table, seed).start();
        Thread.sleep(millis);
        assertThat(w.stopAndJoin()).isNull();
        assertThat(w.ops.get()).isGreaterThan(20);
    }

    private static SourceWriter writer(String table, long seed) {
        return new SourceWriter(SOURCE.server(), seed) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                int id = 1 + r.nextInt(ROWS + 200);
                st.execute(r.nextInt(10) < 8 ? "INSERT INTO " + table + " VALUES (" + id + ", " + n + ") ON CONFLICT "
                        + "(id) DO UPDATE SET balance = EXCLUDED.balance"
                        : "DELETE FROM " + table + " WHERE id = " + id);
                if (n % 20 == 0) {
                    Thread.sleep(5);
                }
            }
        };
    }

    /** Waits (up to 60 s) for the target to hold the source's rows, then asserts it does. */
    private static void converge(String table, String targetDb) throws Exception {
        Converge.tables(SOURCE.server(), () -> TARGET.server().connect(targetDb, "migrator", PW), table, "id");
    }
}
