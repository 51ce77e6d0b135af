package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.server.wire.Json;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lag as {@code tandem lag} tells it, against real PostgreSQL: an idle migration on a source busy with tables it does
 * not move reads ~0 s (it read up to the heartbeat interval, 10 s, before: unrelated log traffic counted); with the
 * target's table locked, the seconds grow with the stall, records count the changes waiting in the source's log (not
 * only the one batch received) and the trend says increasing; once the lock goes the lag returns to 0. Then, with
 * the migration stopped, {@code tandem verify} says at once that the stream is not running and what its differences
 * mean (it used to print "equal" and end with exit 3 after two minutes of waiting for the stream).
 */
class HonestSignalsIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "lag-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE TABLE moved (id int PRIMARY KEY, v int NOT NULL)",
                "INSERT INTO moved SELECT g, g FROM generate_series(1, 1000) g",
                "CREATE TABLE noise (id bigserial PRIMARY KEY, payload text)", "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void lagTellsAnIdleSourceFromAStalledTargetAndVerifySaysTheStreamIsStopped() throws Exception {
        Path manifest = dir.resolve("lag.yaml");
        Files.writeString(manifest, String.join("\n", "id: lag",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [public.moved]}", "schema: create",
                "cdc: {method: logical_replication}", // the default 10 s Debezium heartbeat
                "validation: {continuous: false}", "continuous: {stop_when: manual}", ""));
        String store = dir.resolve("store").toString();
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f",
                manifest.toString(), "--store", store));
        StoreWait.catchUp(store, ENV, "lag", migrate);
        // changes of the moved table first, so the stream has measured its bytes per change
        SOURCE.server().execute("UPDATE moved SET v = v + 1 WHERE id <= 300");

        SourceWriter noise = new SourceWriter(SOURCE.server(), 21) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                st.execute("INSERT INTO noise (payload) SELECT md5(g::text) FROM generate_series(1, 20) g");
                Thread.sleep(5);
            }
        }.start();
        double idleMax = 0;
        try {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
            while (System.nanoTime() < until) {
                idleMax = Math.max(idleMax, lag(store).path("lag").path("seconds").asDouble());
                Thread.sleep(500);
            }
        } finally {
            assertThat(noise.stopAndJoin()).isNull();
        }
        assertThat(noise.ops.get()).as("the source was busy with a table the migration does not move")
                .isGreaterThan(100);
        assertThat(idleMax).as("lag seconds of an idle migration on a busy source").isLessThan(2.0);

        try (Connection t = TARGET.server().connect(); Statement lock = t.createStatement()) {
            t.setAutoCommit(false);
            lock.execute("LOCK TABLE moved IN ACCESS EXCLUSIVE MODE");
            for (int i = 0; i < 20; i++) {
                SOURCE.server().execute("INSERT INTO moved VALUES (" + (2000 + i) + ", " + i + ")");
            }
            Thread.sleep(5_000);
            JsonNode stalled = lag(store);
            assertThat(stalled.path("lag").path("seconds").asDouble()).as(stalled.toString()).isGreaterThan(3.0);
            assertThat(stalled.path("lag").path("records").asLong()).as("the 20 inserts waiting: " + stalled)
                    .isBetween(10L, 200L);
            assertThat(stalled.path("trend").asText()).as(stalled.toString()).isEqualTo("increasing");
            t.rollback();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode after = lag(store);
        while ((after.path("lag").path("seconds").asDouble() >= 1.5 || after.path("lag").path("records").asLong() > 0)
                && System.nanoTime() < deadline) {
            Thread.sleep(500);
            after = lag(store);
        }
        assertThat(after.path("lag").path("seconds").asDouble()).as(after.toString()).isLessThan(1.5);
        assertThat(after.path("lag").path("records").asLong()).as(after.toString()).isZero();
        Converge.tables(SOURCE.server(), TARGET.server(), "moved", "id");

        CliRun stop = CliRun.of(ENV, "stop", "lag", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = migrate.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();

        SOURCE.server().execute("UPDATE moved SET v = v + 1000 WHERE id <= 10");
        CliRun verify = CliRun.of(ENV, "verify", "-f", manifest.toString(), "--store", store);
        assertThat(verify.exitCode()).as(verify.all()).isEqualTo(3);
        assertThat(verify.all()).contains("the change stream of migration lag is not running (state paused",
                "10 differing rows could not be confirmed or cleared", "tandem resume lag");
    }

    private static JsonNode lag(String store) throws Exception {
        CliRun lag = CliRun.of(ENV, "lag", "lag", "--json", "--store", store);
        assertThat(lag.exitCode()).as(lag.all()).isZero();
        JsonNode d = Json.MAPPER.readTree(lag.out());
        assertThat(d.path("stream").asText()).isEqualTo("forward");
        return d;
    }
}
