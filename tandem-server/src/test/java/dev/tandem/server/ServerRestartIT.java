package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem server} killed with -9 in the middle of a backfill it runs, while a writer keeps changing the
 * source: started again on the same store, it resumes the migration by itself (the chunks already copied stay,
 * the stream resumes from its confirmed position), reaches catch-up, and once the writer stops the tables are equal
 * row for row. Then a graceful stop (SIGTERM) pauses the migration, and the next start resumes it.
 */
class ServerRestartIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "restart-pw";
    private static final String ADMIN = "restart-admin-token-0123456789";
    private static final Map<String, String> ENV = Map.of("PW", PW, "TANDEM_ADMIN_TOKEN", ADMIN);
    private static final String ONE = "/api/v1/migrations/restart";
    private static final int ROWS = 120_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
        }
        SOURCE.server().execute("CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL, "
                        + "note text)",
                "INSERT INTO items SELECT g, 'item ' || g, g % 100, repeat('x', g % 50) FROM generate_series(1, "
                        + ROWS + ") g",
                "ANALYZE");
    }

    @Test
    void aKilledServerResumesItsMigrationAndTheTablesEndEqual() throws Exception {
        int port = freePort();
        Api api = new Api("http://127.0.0.1:" + port);
        Process server = start(port, "first.log");
        SourceWriter writer = new Writer().start();
        try {
            Api.Response created = api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"restart\", "
                    + "\"source\": {\"url\": \"" + SOURCE.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                    + "\"password\": \"${env:PW}\"}, "
                    + "\"target\": {\"url\": \"" + TARGET.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                    + "\"password\": \"${env:PW}\"}, "
                    + "\"scope\": {\"tables\": [\"items\"]}, "
                    // slow enough to be killed in the middle: ~12 s of copying
                    + "\"data\": {\"chunk_rows\": 5000, \"parallelism\": 2, \"rows_per_second\": 10000}, "
                    + "\"cdc\": {\"method\": \"logical_replication\", \"heartbeat_interval\": \"1s\"}, "
                    + "\"validation\": {\"continuous\": false}}");
            assertThat(created.status()).as(created.toString()).isEqualTo(201);
            assertThat(api.call("POST", ONE + "/migrate", ADMIN, null).status()).isEqualTo(202);
            JsonNode mid = api.await(ONE + "/status", ADMIN, 120, "some chunks copied", s ->
                    s.path("backfill").path("chunks").path("PASS").asLong() >= 3);
            assertThat(mid.path("phase").asText()).isEqualTo("backfill");
            server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            long passedBeforeKill = mid.path("backfill").path("chunks").path("PASS").asLong();

            server = start(port, "second.log");
            JsonNode resumed = api.await(ONE + "/status", ADMIN, 240, "catch_up after the restart", s ->
                    s.path("phase").asText().equals("catch_up"));
            assertThat(resumed.path("running_here").asBoolean()).isTrue();
            assertThat(resumed.path("backfill").path("chunks").path("PASS").asLong())
                    .isGreaterThanOrEqualTo(passedBeforeKill);
            String log = Files.readString(dir.resolve("second.log"));
            assertThat(log).contains("resuming (its process stopped while running)");
        } finally {
            assertThat(writer.stopAndJoin()).isNull();
        }
        assertThat(writer.ops.get()).isGreaterThan(100);
        api.await(ONE + "/lag", ADMIN, 120, "lag 0", d -> d.path("lag").path("records").asLong() == 0
                && d.path("lag").path("seconds").asDouble() < 2);
        Converge.tables(SOURCE.server(), TARGET.server(), "items", "id");

        // a graceful stop pauses; the next start resumes exactly that
        server.destroy();
        assertThat(server.waitFor(90, TimeUnit.SECONDS)).isTrue();
        Process third = start(port, "third.log");
        try {
            JsonNode again = api.await(ONE + "/status", ADMIN, 120, "running again", s ->
                    s.path("status").asText().equals("running") && s.path("running_here").asBoolean());
            assertThat(again.path("phase").asText()).isEqualTo("catch_up");
            JsonNode audit = api.call("GET", ONE + "/audit", ADMIN, null).data();
            List<String> details = new ArrayList<>();
            audit.forEach(a -> details.add(a.path("action").asText() + ": " + a.path("detail").asText()));
            assertThat(details).contains("pause: server shutdown");
            assertThat(api.call("POST", ONE + "/abort", ADMIN, null).data().path("status").asText())
                    .isEqualTo("rolled_back");
        } finally {
            third.destroy();
            third.waitFor(90, TimeUnit.SECONDS);
        }
    }

    private Process start(int port, String log) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", Path.of("target", "tandem.jar").toAbsolutePath()
                .toString(), "server", "--host", "127.0.0.1", "--port", String.valueOf(port), "--store",
                dir.resolve("store").toString()).redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile());
        pb.environment().putAll(ENV);
        Process p = pb.start();
        Api api = new Api("http://127.0.0.1:" + port);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (api.call("GET", "/health", null, null).status() == 200) {
                    return p;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive()) {
                throw new AssertionError("the server exited: " + Files.readString(dir.resolve(log)));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the server did not answer within 60 s: " + Files.readString(dir.resolve(log)));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Updates, inserts and deletes all over the key range, so copied and uncopied chunks both change. */
    private static final class Writer extends SourceWriter {
        Writer() {
            super(SOURCE.server(), 11);
        }

        @Override
        void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
            long id = 1 + r.nextInt(ROWS);
            switch ((int) (n % 8)) {
                case 0 -> st.execute("INSERT INTO items VALUES (" + (ROWS + n) + ", 'new', 1, NULL)");
                case 1 -> st.execute("DELETE FROM items WHERE id = " + id);
                default -> st.execute("UPDATE items SET qty = qty + 1, note = 'w" + n + "' WHERE id = " + id);
            }
            Thread.sleep(2);
        }
    }
}
