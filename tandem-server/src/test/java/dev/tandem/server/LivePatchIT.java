package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PATCH to a running migration takes effect in the process running it, through the REST API against real
 * PostgreSQL under a concurrent writer (before, the running process kept its start-time manifest: a 3 s lag limit
 * did not abort at 21 s, and a 2024 time window let a cutover run): a new alert rule on the routers' shadow-read
 * mismatch rate fires within seconds of a router reporting mismatches, and the routers get the new shadow-read
 * sample; a new
 * {@code validation} restarts continuous verification under it (a new verify run with the new rate), and
 * {@code mode: none} ends it; a time window
 * in the past closes the cutover gate; a key that cannot change while running is a 409 naming it; a lag limit
 * PATCHed in while the target is locked aborts the migration by itself. The writer's rows end equal on both sides up
 * to the abort.
 */
class LivePatchIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "patch-pw";
    private static final String ADMIN = "admin-token-patch-0123456789";
    private static final String READ = "read-token-patch-0123456789";
    private static final String ROUTER = "router-token-patch-0123456789";
    private static final Map<String, String> ENV = Map.of("PW", PW, "TANDEM_ADMIN_TOKEN", ADMIN,
            "TANDEM_READ_TOKEN", READ, "TANDEM_ROUTER_TOKEN", ROUTER);
    private static final String ONE = "/api/v1/migrations/live-patch";

    @TempDir
    static Path dir;
    private static InProcessServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'");
        }
        SOURCE.server().execute("CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, g FROM generate_series(1, 5000) g", "ANALYZE");
        server = new InProcessServer(dir.resolve("store"), ENV);
        api = server.api;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void patchedPoliciesActInTheRunningProcess() throws Exception {
        Api.Response created = api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"live-patch\", "
                + "\"source\": {\"url\": \"" + SOURCE.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"}, \"target\": {\"url\": \"" + TARGET.server().jdbcUrl() + "\", "
                + "\"user\": \"migrator\", \"password\": \"${env:PW}\"}, \"scope\": {\"tables\": [\"accounts\"]}, "
                + "\"cdc\": {\"method\": \"logical_replication\", \"heartbeat_interval\": \"1s\"}, "
                + "\"validation\": {\"continuous\": true, \"rows_per_second\": 50000}}");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        SourceWriter writer = new SourceWriter(SOURCE.server(), 5) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                st.execute("UPDATE accounts SET balance = balance + 1 WHERE id = " + (1 + r.nextInt(5000)));
                Thread.sleep(20);
            }
        }.start();
        try {
            assertThat(api.call("POST", ONE + "/migrate", ADMIN, null).status()).isEqualTo(202);
            api.await(ONE + "/status", READ, 180, "catch_up", s -> s.path("phase").asText().equals("catch_up"));
            api.await(ONE + "/runs", READ, 60, "continuous verification", d -> verifyRuns(d).size() == 1);

            // an alert rule added while streaming, on the shadow reads the routers report, fires within seconds
            Api.Response rule = api.call("PATCH", ONE, ADMIN, "{\"alerting\": {\"rules\": [{\"name\": "
                    + "\"shadow_reads_differ\", \"condition\": \"shadow_mismatch_rate > 0.1\", \"severity\": "
                    + "\"high\"}]}, \"validation\": {\"continuous\": true, \"rows_per_second\": 50000, "
                    + "\"shadow_reads\": {\"sample\": 0.25}}}");
            assertThat(rule.status()).as(rule.toString()).isEqualTo(200);
            JsonNode routing = api.call("GET", ONE + "/routing", READ, null).data();
            assertThat(routing.path("shadow_read_sample").asDouble()).isEqualTo(0.25);
            Api.Response ack = api.call("POST", ONE + "/routing/ack", ROUTER, "{\"router_id\": \"app-1\", "
                    + "\"epoch\": " + routing.path("epoch").asLong() + ", \"metrics\": {\"shadow_reads\": 40, "
                    + "\"shadow_matches\": 30, \"shadow_mismatches\": 10}}");
            assertThat(ack.status()).as(ack.toString()).isEqualTo(200);
            JsonNode firing = api.await(ONE + "/status", READ, 20, "the new rule firing",
                    d -> d.path("alerts").toString().contains("\"shadow_reads_differ\""));
            assertThat(firing.path("alerts").toString()).contains("shadow_mismatch_rate=0.25");
            // the new shadow sample is a new validation: verification starts again under it (at the migration's next
            // turn; two PATCHes within one turn are taken as one, the latest)
            api.await(ONE + "/runs", READ, 20, "a verify run under the sampled validation",
                    d -> verifyRuns(d).size() == 2);

            // a new validation: continuous verification starts again under it
            Api.Response validation = api.call("PATCH", ONE, ADMIN, "{\"validation\": {\"continuous\": true, "
                    + "\"rows_per_second\": 1234}}");
            assertThat(validation.status()).as(validation.toString()).isEqualTo(200);
            JsonNode runs = api.await(ONE + "/runs", READ, 20, "a verify run at the new rate",
                    d -> verifyRuns(d).stream().anyMatch(r -> r.path("rows_per_second").asLong() == 1234));
            assertThat(verifyRuns(runs)).as("one run per validation: the first, the sample, the rate").hasSize(3);
            // validation mode none: continuous verification ends (its run ended) and does not start again
            Api.Response off = api.call("PATCH", ONE, ADMIN, "{\"validation\": {\"mode\": \"none\"}}");
            assertThat(off.status()).as(off.toString()).isEqualTo(200);
            runs = api.await(ONE + "/runs", READ, 20, "every verify run ended", d -> verifyRuns(d).stream()
                    .allMatch(r -> r.path("status").asText().equals("ENDED")));
            Thread.sleep(2000);
            assertThat(verifyRuns(api.call("GET", ONE + "/runs", READ, null).data())).hasSize(3);

            // a time window that ended: the cutover gate says so
            Api.Response window = api.call("PATCH", ONE, ADMIN, "{\"strategy\": {\"type\": \"time_window\", "
                    + "\"window_start\": \"2024-01-15T02:00:00Z\", \"window_end\": \"2024-01-15T04:00:00Z\"}}");
            assertThat(window.status()).as(window.toString()).isEqualTo(200);
            Api.Response cutover = api.call("POST", ONE + "/cutover", ADMIN, null);
            assertThat(cutover.status()).as(cutover.toString()).isEqualTo(409);
            assertThat(cutover.json().path("error").path("gate").asText()).isEqualTo("time_window");
            assertThat(cutover.json().path("error").path("message").asText()).contains("2024-01-15T04:00:00Z");

            // what moves cannot change while running: 409 naming the key
            Api.Response frozen = api.call("PATCH", ONE, ADMIN, "{\"data\": {\"chunk_rows\": 10}}");
            assertThat(frozen.status()).as(frozen.toString()).isEqualTo(409);
            assertThat(frozen.json().path("error").path("message").asText()).contains("cannot change data");

            // a lag limit PATCHed in while the target cannot apply: the migration aborts by itself
            try (Connection t = TARGET.server().connect(); Statement st = t.createStatement()) {
                t.setAutoCommit(false);
                st.execute("LOCK TABLE accounts IN EXCLUSIVE MODE");
                Api.Response limit = api.call("PATCH", ONE, ADMIN, "{\"abort_thresholds\": {\"lag_seconds\": 3}}");
                assertThat(limit.status()).as(limit.toString()).isEqualTo(200);
                api.await(ONE + "/status", READ, 60, "the abort starting",
                        d -> !d.path("status").asText().equals("running"));
                t.rollback();
            }
        } finally {
            assertThat(writer.stopAndJoin()).isNull();
        }
        JsonNode done = api.await(ONE + "/status", READ, 120, "aborted by the patched threshold",
                d -> d.path("status").asText().equals("rolled_back"));
        assertThat(done.path("status").asText()).isEqualTo("rolled_back");
        assertThat(server.store.audit().list("live-patch")).anyMatch(a -> a.detail() != null
                && a.detail().startsWith("abort threshold lag_seconds crossed"));
    }

    private static List<JsonNode> verifyRuns(JsonNode d) {
        return StreamSupport.stream(d.path("runs").spliterator(), false)
                .filter(r -> r.path("kind").asText().equals("verify")).toList();
    }
}
