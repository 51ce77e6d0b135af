package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingDataSource;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application-like workload through the routing DataSource for a whole lifecycle against real PostgreSQL: many
 * threads, each transaction either a read-only lookup or a write transaction (credit an account, insert its event
 * with a sequence-generated key); backfill and catch-up under it, canary steps, shadow reads, the cutover (write
 * pause reported), more writes on the target, the rollback. Independent checks at every stage: the tables compared
 * row for row with the workload paused, and the invariant sum(balance) - initial = count(events) on each side, which
 * any lost or half-applied transaction breaks. No transaction may fail except by the freeze timeout.
 */
class RouterLifecycleIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "lc-pw";
    private static final String ADMIN = "admin-token-lifecycle-0123456789";
    private static final String READ = "read-token-lifecycle-0123456789";
    private static final String ROUTER = "router-token-lifecycle-0123456789";
    private static final String ONE = "/api/v1/migrations/lifecycle";
    private static final int ACCOUNTS = 20_000;

    @TempDir
    static Path dir;
    private static InProcessServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
        }
        SOURCE.server().execute("CREATE TABLE accounts (id bigserial PRIMARY KEY, user_id text NOT NULL, "
                        + "balance bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
                "INSERT INTO accounts (user_id, balance) SELECT 'user-' || g, 1000 FROM generate_series(1, "
                        + ACCOUNTS + ") g",
                "CREATE TABLE events (id bigserial PRIMARY KEY, account_id bigint NOT NULL, amount bigint NOT NULL, "
                        + "at timestamptz NOT NULL DEFAULT now())",
                "ANALYZE");
        server = new InProcessServer(dir.resolve("store"), Map.of("PW", PW, "TANDEM_ADMIN_TOKEN", ADMIN,
                "TANDEM_READ_TOKEN", READ, "TANDEM_ROUTER_TOKEN", ROUTER));
        api = server.api;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HikariDataSource pool(EmbeddedPostgres db) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(db.jdbcUrl());
        c.setUsername("migrator");
        c.setPassword(PW);
        c.setMaximumPoolSize(10);
        return new HikariDataSource(c);
    }

    @Test
    void aWorkloadThroughTheRouterCutsOverAndRollsBackWithoutLosingATransaction() throws Exception {
        Api.Response created = api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"lifecycle\", "
                + "\"source\": {\"url\": \"" + SOURCE.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"},"
                + "\"target\": {\"url\": \"" + TARGET.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"},"
                + "\"scope\": {\"tables\": [\"accounts\", \"events\"]},"
                + "\"data\": {\"type\": \"scan\", \"replace\": \"replace\", \"chunk_rows\": 4000},"
                + "\"cdc\": {\"method\": \"logical_replication\", \"heartbeat_interval\": \"1s\"},"
                + "\"validation\": {\"continuous\": true},"
                + "\"strategy\": {\"type\": \"canary\", \"read_percentage\": 0.05, \"write_mode\": "
                + "{\"mode\": \"dual_write\", \"policy\": \"old_authoritative\"}}}");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);

        try (HikariDataSource sourcePool = pool(SOURCE.server()); HikariDataSource targetPool = pool(TARGET.server());
             RoutingClient client = new RoutingClient(URI.create(server.url()), "lifecycle", ROUTER, "app-1", null);
             RoutingDataSource router = RoutingDataSource.following(sourcePool, targetPool, client)) {
            client.start();
            RoutedWorkload app = new RoutedWorkload(router, 6, ACCOUNTS).start();
            try {
                assertThat(api.call("POST", ONE + "/migrate", ADMIN, null).status()).isEqualTo(202);
                api.await(ONE + "/status", READ, 180, "catch_up", s -> s.path("phase").asText().equals("catch_up"));
                equalNow(app, "catch-up");

                // canary: a share of users reads from the target
                patch("{\"type\": \"canary\", \"read_percentage\": 0.25, \"write_mode\": {\"mode\": \"dual_write\", "
                        + "\"policy\": \"old_authoritative\"}}");
                long targetReads = router.stats().readsTarget();
                awaitTrue("reads on the target", () -> router.stats().readsTarget() > targetReads + 200);
                assertThat(router.stats().writesTarget()).as("writes stay on the source before the cutover").isZero();

                // shadow traffic: reads compared on both sides, no mismatch
                patch("{\"type\": \"shadow_traffic\"}");
                awaitTrue("shadow reads compared", () -> router.stats().shadowMatches() > 200);
                patch("{\"type\": \"canary\", \"read_percentage\": 0.75, \"write_mode\": {\"mode\": \"dual_write\", "
                        + "\"policy\": \"old_authoritative\"}}");
                equalNow(app, "canary 75%");
                assertThat(router.stats().shadowMismatches()).as("shadow mismatches").isZero();

                // the cutover gates: a finished clean verification
                assertThat(api.call("POST", ONE + "/verify", ADMIN, null).status()).isEqualTo(202);
                api.await(ONE + "/runs", READ, 180, "a verify run ended", d -> {
                    for (JsonNode r : d.path("runs")) {
                        if (r.path("kind").asText().equals("verify") && r.path("status").asText().equals("ENDED")) {
                            return true;
                        }
                    }
                    return false;
                });
                awaitTrue("the router is live", () -> {
                    JsonNode s = api.call("GET", ONE + "/status", READ, null).data();
                    return s.path("routers").size() == 1;
                });

                // the cutover, with the workload running
                long writesBefore = app.writes.get();
                Api.Response cut = api.call("POST", ONE + "/cutover", ADMIN, null);
                assertThat(cut.status()).as(cut.toString()).isEqualTo(200);
                JsonNode report = cut.data().path("report");
                System.out.println("cutover report: " + report.toPrettyString());
                assertThat(report.path("outcome").asText()).isEqualTo("completed");
                assertThat(report.path("routers").asInt()).isEqualTo(1);
                assertThat(report.path("router_ids").toString()).as("which routers it waited for")
                        .isEqualTo("[\"app-1\"]");
                assertThat(report.path("write_pause").path("routers_reporting").asInt()).isEqualTo(1);
                assertThat(cut.data().path("migration").path("phase").asText()).isEqualTo("cutover");
                awaitTrue("writes on the target", () -> router.stats().writesTarget() > 200);
                assertThat(app.writes.get()).isGreaterThan(writesBefore);
                try (Connection s = SOURCE.server().connect(); Statement st = s.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("the forward slot was dropped").isZero();
                }
                equalNow(app, "after the cutover (the reverse stream keeps the source)");
                // the lag after the cutover is the live stream's: the reverse one, target to source
                api.await(ONE + "/lag", ADMIN, 60, "the reverse stream's lag", d -> d.path("stream").asText()
                        .equals("reverse") && d.path("lag").path("seconds").asDouble() < 5);

                // the rollback from the CLI, with the workload running: the source has every write the target took
                CliRun back = CliRun.of(Map.of("TANDEM_TOKEN", ADMIN), "rollback", "lifecycle", "--server",
                        server.url(), "--json");
                assertThat(back.exitCode()).as(back.all()).isZero();
                System.out.println("rollback report: " + back.out());
                assertThat(Api.parse(back.out()).path("outcome").asText()).isEqualTo("completed");
                assertThat(api.call("GET", ONE, ADMIN, null).data().path("status").asText()).isEqualTo("rolled_back");
                long sourceWrites = router.stats().writesSource();
                awaitTrue("writes back on the source", () -> router.stats().writesSource() > sourceWrites + 100);
            } finally {
                Throwable failed = app.stopAndJoin();
                assertThat(failed).as("no transaction failed (other than by the freeze timeout)").isNull();
                System.out.printf("workload: %,d reads, %,d writes, %,d freeze timeouts; router %s%n",
                        app.reads.get(), app.writes.get(), app.freezeTimeouts.get(), router.stats().snapshot());
            }
            try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
                assertThat(invariantBroken(s)).as("source: sum(balance) - initial = count(events)").isZero();
                assertThat(invariantBroken(t)).as("target: sum(balance) - initial = count(events)").isZero();
                try (Statement st = t.createStatement(); ResultSet rs = st.executeQuery("SELECT max(id) FROM events")) {
                    rs.next();
                    long maxOnTarget = rs.getLong(1);
                    var events = TableComparison.compare(s, t, "public.events", "id", "id <= " + maxOnTarget);
                    assertThat(events.equal()).as("every event the target took is on the source: " + events)
                            .isTrue();
                }
            }
        }
    }

    private static long invariantBroken(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT (SELECT sum(balance) FROM "
                + "accounts) - " + ACCOUNTS + " * 1000 - (SELECT count(*) FROM events)")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void patch(String strategy) throws Exception {
        Api.Response r = api.call("PATCH", ONE, ADMIN, "{\"strategy\": " + strategy + "}");
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    /** Pauses the workload, waits for the stream, compares both tables row for row, resumes. */
    private static void equalNow(RoutedWorkload app, String stage) throws Exception {
        app.pause();
        try {
            Converge.tables(SOURCE.server(), TARGET.server(), "public.accounts", "id");
            Converge.tables(SOURCE.server(), TARGET.server(), "public.events", "id");
        } catch (AssertionError e) {
            throw new AssertionError("divergence at " + stage + ": " + e.getMessage(), e);
        } finally {
            app.resume();
        }
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!check.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
