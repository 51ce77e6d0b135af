package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.server.api.Tokens;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The REST control plane on a random port against real PostgreSQL: seed 002's curl flow as written (create, add an
 * API and an interlay, test, migrate), then configured and run for real under a concurrent writer; the canary PATCH
 * steps 0.05 → 0.25 → 0.75 → 1.0; advance refused by its gates until a verification is clean, then to shadow, and
 * refused at cutover; abort; the audit log names the token that did each step; metrics; the auth matrix of seed 002;
 * a corpus of bad requests that each answer 4xx with their problems, never 500.
 */
class ServerApiIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "api-pw";
    private static final String ADMIN = "admin-token-0123456789abcdef";
    private static final String READ = "read-token-0123456789abcdef";
    private static final String ROUTER = "router-token-0123456789abcdef";
    private static final Map<String, String> ENV = Map.of("PW", PW, "TANDEM_ADMIN_TOKEN", ADMIN,
            "TANDEM_READ_TOKEN", READ, "TANDEM_ROUTER_TOKEN", ROUTER);
    private static final String M = "/api/v1/migrations";

    @TempDir
    static Path dir;
    private static InProcessServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
        }
        SOURCE.server().execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, "
                        + "amount numeric(12,2), updated_at timestamptz DEFAULT now())",
                "INSERT INTO orders SELECT g, 'c' || g % 500, g % 1000 / 10.0 FROM generate_series(1, 30000) g",
                "CREATE TABLE notes (id int PRIMARY KEY, body text)",
                "INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 2000) g",
                "ANALYZE");
        server = new InProcessServer(dir.resolve("store"), ENV);
        api = server.api;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void seedFlowCanaryStepsGatesAndAbortUnderAConcurrentWriter() throws Exception {
        // seed 002, step 1, as written
        Api.Response created = api.call("POST", M, ADMIN, """
                {
                    "id": "migrate_to_new_redis",
                    "description": "Migrate user cache to new Redis cluster",
                    "strategy": {
                      "type": "canary",
                      "read_percentage": 0.05,
                      "write_mode": {
                        "mode": "dual_write",
                        "policy": "old_authoritative"
                      }
                    },
                    "data": {
                      "type": "scan",
                      "replace": "replace"
                    },
                    "failure_handling": "rollback_all"
                  }""");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        assertThat(created.json().path("status").asText()).isEqualTo("success");
        assertThat(created.data().path("status").asText()).isEqualTo("pending");
        assertThat(created.data().path("uuid").asText()).hasSize(36);
        String one = M + "/migrate_to_new_redis";
        // step 2
        Api.Response apiAdded = api.call("POST", one + "/api/user_cache_api", ADMIN, """
                {"id": "user_cache_api", "bindings": [{"template": "get_user_template", "fields": {}}]}""");
        assertThat(apiAdded.status()).as(apiAdded.toString()).isEqualTo(201);
        Api.Response interlay = api.call("POST", one + "/interlay/user_cache_interlay", ADMIN,
                "{\"endpoint\": \"new_redis_cluster\"}");
        assertThat(interlay.status()).as(interlay.toString()).isEqualTo(201);
        assertThat(interlay.data().path("apis").get(0).path("id").asText()).isEqualTo("user_cache_api");
        assertThat(interlay.data().path("interlays").get(0).path("endpoint").asText()).isEqualTo("new_redis_cluster");
        // step 3 and 4 on a migration that has no databases yet: what is missing, and 409
        Api.Response test = api.call("POST", one + "/test", ADMIN, null);
        assertThat(test.status()).isEqualTo(200);
        assertThat(test.data().path("ok").asBoolean()).isFalse();
        assertThat(test.data().path("problems").toString()).contains("source: missing", "target: missing");
        Api.Response early = api.call("POST", one + "/migrate", ADMIN, null);
        assertThat(early.status()).isEqualTo(409);
        assertThat(early.json().path("error").path("message").asText()).contains("expected state ready",
                "actual pending");

        // configure it for real databases: ready; an alert rule posts to a webhook of this test
        List<String> hooks = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer hook = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        hook.createContext("/hook", x -> {
            hooks.add(new String(x.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        hook.start();
        String hookUrl = "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
        Api.Response configured = api.call("PATCH", one, ADMIN, "{"
                + "\"source\": {\"url\": \"" + SOURCE.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"},"
                + "\"target\": {\"url\": \"" + TARGET.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"},"
                + "\"scope\": {\"tables\": [\"orders\"]},"
                + "\"data\": {\"type\": \"scan\", \"replace\": \"replace\", \"chunk_rows\": 3000},"
                + "\"cdc\": {\"method\": \"logical_replication\", \"heartbeat_interval\": \"1s\"},"
                + "\"validation\": {\"continuous\": false}, "
                + "\"alerting\": {\"rules\": [{\"name\": \"apply_stalled\", \"condition\": \"lag_seconds > 2\", "
                + "\"severity\": \"high\", \"message\": \"changes wait more than 2 s\", \"webhook\": \"" + hookUrl
                + "\"}]}}");
        assertThat(configured.status()).as(configured.toString()).isEqualTo(200);
        assertThat(configured.data().path("status").asText()).isEqualTo("ready");
        assertThat(configured.text()).doesNotContain(PW);
        Api.Response tested = api.call("POST", one + "/test", ADMIN, null);
        assertThat(tested.data().path("ok").asBoolean()).as(tested.toString()).isTrue();

        SourceWriter writer = new Writer(7).start();
        try {
            Api.Response started = api.call("POST", one + "/migrate", ADMIN, null);
            assertThat(started.status()).as(started.toString()).isEqualTo(202);
            Api.Response twice = api.call("POST", one + "/migrate", ADMIN, null);
            assertThat(twice.status()).as("a second start while it runs").isEqualTo(409);
            api.await(one + "/status", READ, 180, "catch_up", s -> s.path("phase").asText().equals("catch_up"));

            // the canary steps (seed 002's PATCH bodies)
            for (String step : List.of(
                    "{\"type\": \"canary\", \"read_percentage\": 0.25, \"write_mode\": {\"mode\": \"dual_write\", "
                            + "\"policy\": \"old_authoritative\"}}",
                    "{\"type\": \"canary\", \"read_percentage\": 0.75, \"write_mode\": {\"mode\": \"dual_write\", "
                            + "\"policy\": \"old_authoritative\"}}",
                    "{\"type\": \"canary\", \"read_percentage\": 1.0, \"write_mode\": {\"mode\": \"cutover\", "
                            + "\"write_percentage\": 1.0}}")) {
                Api.Response patched = api.call("PATCH", one, ADMIN, "{\"strategy\": " + step + "}");
                assertThat(patched.status()).as(patched.toString()).isEqualTo(200);
                assertThat(patched.data().path("strategy")).isEqualTo(Api.parse(step));
                assertThat(patched.data().path("status").asText()).isEqualTo("running");
            }
            // the target stops applying (a lock): the alert fires, on status and the webhook; released, it resolves
            try (Connection t = TARGET.server().connect(); Statement st = t.createStatement()) {
                t.setAutoCommit(false);
                st.execute("LOCK TABLE orders IN EXCLUSIVE MODE");
                JsonNode firing = api.await(one + "/status", READ, 60, "the alert firing", d ->
                        d.path("alerts").toString().contains("apply_stalled"));
                assertThat(firing.path("alerts").get(0).path("severity").asText()).isEqualTo("high");
                assertThat(api.call("GET", "/metrics", READ, null).text())
                        .contains("tandem_alerts_open{migration=\"migrate_to_new_redis\"} 1.0");
                t.rollback();
            }
            api.await(one + "/status", READ, 60, "the alert resolved", d -> d.path("alerts").isEmpty());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (hooks.stream().noneMatch(h -> h.contains("\"resolved\"")) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            hook.stop(0);
            assertThat(hooks).anyMatch(h -> h.contains("\"alert\":\"apply_stalled\"") && h.contains("\"firing\""))
                    .anyMatch(h -> h.contains("\"state\":\"resolved\""));

            // routers follow the routing state: a long poll answers when the next change lands
            long epoch = api.call("GET", one + "/routing", READ, null).data().path("epoch").asLong();
            java.util.concurrent.CompletableFuture<Api.Response> poll =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                        try {
                            return api.call("GET", one + "/routing?after_epoch=" + epoch, READ, null);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
            Thread.sleep(500);
            assertThat(poll).as("nothing changed yet: the poll waits").isNotDone();
            api.call("PATCH", one, ADMIN, "{\"strategy\": {\"type\": \"canary\", \"read_percentage\": 0.25, "
                    + "\"write_mode\": {\"mode\": \"dual_write\", \"policy\": \"old_authoritative\"}}}");
            JsonNode routing = poll.get(10, java.util.concurrent.TimeUnit.SECONDS).data();
            assertThat(routing.path("epoch").asLong()).isGreaterThan(epoch);
            assertThat(routing.path("cut_over").asBoolean()).isFalse();
            dev.tandem.router.RoutingPolicy policy = new dev.tandem.router.RoutingPolicy(
                    dev.tandem.router.RoutingState.parse(routing.toString()), "app-1", "migrate_to_new_redis");
            int toTarget = 0;
            int otherToTarget = 0;
            for (int u = 0; u < 4000; u++) {
                // the migration lists its API: the canary applies to that API's requests, no other request moves
                if (policy.reads(new dev.tandem.router.TandemContext("user-" + u, "user_cache_api", null))
                        == dev.tandem.router.Side.TARGET) {
                    toTarget++;
                }
                if (policy.reads(new dev.tandem.router.TandemContext("user-" + u, null, null))
                        == dev.tandem.router.Side.TARGET) {
                    otherToTarget++;
                }
            }
            assertThat(toTarget / 4000.0).isBetween(0.22, 0.28);
            assertThat(otherToTarget).as("requests outside the migration's APIs").isZero();
            assertThat(routing.path("apis").toString()).isEqualTo("[\"user_cache_api\"]");
            // a read token may watch but not acknowledge (an acknowledgement lets a cutover go on) nor mark a
            // router live; the router token may
            String ackBody = "{\"router_id\": \"app-1\", \"epoch\": " + routing.path("epoch").asLong() + "}";
            Api.Response readerAcks = api.call("POST", one + "/routing/ack", READ, ackBody);
            assertThat(readerAcks.status()).as(readerAcks.toString()).isEqualTo(403);
            assertThat(readerAcks.json().path("error").path("message").asText()).contains("needs a router token");
            Api.Response readerLive = api.call("GET", one + "/routing?router_id=app-1", READ, null);
            assertThat(readerLive.status()).as(readerLive.toString()).isEqualTo(403);
            assertThat(api.call("GET", one + "/status", READ, null).data().path("routers").toString())
                    .doesNotContain("app-1");
            Api.Response routerReads = api.call("GET", one + "/status", ROUTER, null);
            assertThat(routerReads.status()).as("a router token reads only the routing state").isEqualTo(403);
            Api.Response ack = api.call("POST", one + "/routing/ack", ROUTER, ackBody);
            assertThat(ack.status()).as(ack.toString()).isEqualTo(200);
            assertThat(api.call("GET", one + "/status", READ, null).data().path("routers").toString())
                    .contains("\"router_id\":\"app-1\"", "\"epoch\":" + routing.path("epoch").asLong());

            Api.Response frozen = api.call("PATCH", one, ADMIN, "{\"scope\": {\"tables\": [\"x\"]}}");
            assertThat(frozen.status()).as("what is moved cannot change while running").isEqualTo(409);

            // advance: no verification yet
            Api.Response gate = api.call("POST", one + "/advance", ADMIN, null);
            assertThat(gate.status()).as(gate.toString()).isEqualTo(409);
            assertThat(gate.json().path("error").path("gate").asText()).isIn("lag", "verification");
            Api.Response verify = api.call("POST", one + "/verify", ADMIN, null);
            assertThat(verify.status()).as(verify.toString()).isEqualTo(202);
            JsonNode runs = api.await(one + "/runs", READ, 180, "a verify run ended", d ->
                    streamOf(d.path("runs")).anyMatch(r -> r.path("kind").asText().equals("verify")
                            && r.path("status").asText().equals("ENDED")));
            assertThat(runs.toString()).contains("\"kind\":\"backfill\"");
            // the CLI talks to the server too (tokens from $TANDEM_TOKEN)
            String url = server.url();
            CliRun status = CliRun.of(withToken(READ), "status", "migrate_to_new_redis", "--server", url, "--json");
            assertThat(status.exitCode()).as(status.all()).isZero();
            assertThat(Api.parse(status.out()).path("phase").asText()).isEqualTo("catch_up");
            CliRun lag = CliRun.of(withToken(READ), "lag", "migrate_to_new_redis", "--server", url);
            assertThat(lag.exitCode()).as(lag.all()).isZero();
            assertThat(lag.out()).contains("Migration migrate_to_new_redis: lag");
            long backfillRun = streamOf(runs.path("runs")).filter(r -> r.path("kind").asText().equals("backfill"))
                    .findFirst().orElseThrow().path("run_id").asLong();
            CliRun chunks = CliRun.of(withToken(READ), "chunks", String.valueOf(backfillRun), "--server", url,
                    "--json");
            assertThat(chunks.exitCode()).as(chunks.all()).isZero();
            assertThat(Api.parse(chunks.out()).path("chunks").size()).isGreaterThanOrEqualTo(10);
            CliRun readerAdvances = CliRun.of(withToken(READ), "advance", "migrate_to_new_redis", "--server", url);
            assertThat(readerAdvances.exitCode()).as(readerAdvances.all()).isEqualTo(2);
            assertThat(readerAdvances.err()).contains("needs an admin token");
            CliRun advanced = CliRun.of(withToken(ADMIN), "advance", "migrate_to_new_redis", "--server", url);
            assertThat(advanced.exitCode()).as(advanced.all()).isZero();
            assertThat(advanced.out()).contains("running (phase shadow)");
            // the interlay added in step 2 names a routing layer that must follow the migration before a cutover
            Api.Response noInterlay = api.call("POST", one + "/advance", ADMIN, null);
            assertThat(noInterlay.status()).as(noInterlay.toString()).isEqualTo(409);
            assertThat(noInterlay.json().path("error").path("gate").asText()).isEqualTo("interlays");
            assertThat(noInterlay.json().path("error").path("message").asText()).contains("new_redis_cluster",
                    "live: app-1");
            Api.Response interlayAck = api.call("POST", one + "/routing/ack", ROUTER, "{\"router_id\": "
                    + "\"new_redis_cluster\", \"epoch\": " + routing.path("epoch").asLong() + "}");
            assertThat(interlayAck.status()).as(interlayAck.toString()).isEqualTo(200);
            Api.Response cutover = api.call("POST", one + "/advance", ADMIN, null);
            // the routers acknowledged once and are live, but follow nothing: the cutover freezes, waits for their
            // acknowledgements in vain and puts routing back on the source
            assertThat(cutover.status()).as(cutover.toString()).isEqualTo(409);
            assertThat(cutover.json().path("error").path("message").asText()).contains("failed at step routers",
                    "routing is back on the source");
            JsonNode back = api.call("GET", one + "/routing", READ, null).data();
            assertThat(back.path("frozen").asBoolean()).isFalse();
            assertThat(back.path("cut_over").asBoolean()).isFalse();
        } finally {
            assertThat(writer.stopAndJoin()).isNull();
        }

        // the stream applies the writer's last changes; then the tables are equal row for row
        api.await(one + "/lag", READ, 120, "lag 0", d -> d.path("lag").path("records").asLong() == 0
                && d.path("lag").path("seconds").asDouble() < 2);
        Converge.tables(SOURCE.server(), TARGET.server(), "orders", "id");
        // lag is sampled: a sample taken while a heartbeat or fence was in flight may show a few records, so wait
        // for status to show the caught-up lag too (it once read 100 records right after /lag showed 0)
        JsonNode status = api.await(one + "/status", READ, 60, "status lag 0",
                d -> d.path("lag").path("records").asLong(-1) == 0);
        assertThat(status.path("backfill").path("chunks").path("PASS").asLong()).isGreaterThanOrEqualTo(10);

        String metrics = api.call("GET", "/metrics", READ, null).text();
        assertThat(metrics).contains("tandem_migration_state{migration=\"migrate_to_new_redis\",state=\"running\"} 1.0",
                "tandem_backfill_chunks{migration=\"migrate_to_new_redis\",status=\"PASS\"}",
                "tandem_lag_seconds{migration=\"migrate_to_new_redis\"}", "tandem_backfill_rows_total",
                "tandem_cdc_changes_applied_total{migration=\"migrate_to_new_redis\"}", "tandem_api_requests_seconds");

        Api.Response aborted = api.call("POST", one + "/abort", ADMIN, null);
        assertThat(aborted.status()).as(aborted.toString()).isEqualTo(200);
        assertThat(aborted.data().path("status").asText()).isEqualTo("rolled_back");
        try (Connection s = SOURCE.server().connect(); Statement st = s.createStatement()) {
            var rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots");
            rs.next();
            assertThat(rs.getInt(1)).as("the slot was dropped").isZero();
        }
        JsonNode audit = api.call("GET", one + "/audit", READ, null).data();
        List<String> lines = new ArrayList<>();
        audit.forEach(a -> lines.add(a.path("actor").asText() + " " + a.path("action").asText() + " "
                + a.path("to").asText()));
        String admin = "api:admin:" + Tokens.fingerprint(ADMIN);
        assertThat(lines).contains(admin + " configure ready/prepare", admin + " start running/prepare",
                admin + " advance running/shadow", admin + " abort rolling_back/shadow");
        assertThat(audit.toString()).contains("PATCH strategy").doesNotContain(ADMIN).doesNotContain(PW);
    }

    @Test
    void theCliPlansMigratesVerifiesAndAbortsThroughTheServer() throws Exception {
        Path manifest = dir.resolve("cli-made.yaml");
        java.nio.file.Files.writeString(manifest, String.join("\n", "id: cli-made",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [notes]}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "validation: {continuous: false}", ""));
        Map<String, String> cli = Map.of("TANDEM_TOKEN", ADMIN); // ${env:PW} is the server's to resolve
        String url = server.url();
        CliRun plan = CliRun.of(cli, "plan", "-f", manifest.toString(), "--server", url);
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("cli-made on " + url + ": ready to migrate");
        CliRun migrate = CliRun.of(cli, "migrate", "-f", manifest.toString(), "--server", url);
        assertThat(migrate.exitCode()).as(migrate.all()).isZero();
        assertThat(migrate.out()).contains("Migration cli-made runs on " + url);
        api.await(M + "/cli-made/status", READ, 120, "catch_up", d -> d.path("phase").asText().equals("catch_up"));

        SOURCE.server().execute("UPDATE notes SET body = body || ' edited' WHERE id % 10 = 0");
        CliRun clean = CliRun.of(cli, "verify", "-f", manifest.toString(), "--server", url);
        assertThat(clean.exitCode()).as(clean.all()).isZero();
        assertThat(clean.out()).contains("of cli-made on " + url + ": no drift");
        TARGET.server().execute("UPDATE notes SET body = 'forged' WHERE id = 5");
        CliRun drift = CliRun.of(cli, "verify", "-f", manifest.toString(), "--server", url, "--json");
        assertThat(drift.exitCode()).as(drift.all()).isEqualTo(1);
        JsonNode report = Api.parse(drift.out());
        assertThat(report.path("unrepaired_rows").asLong()).isEqualTo(1);
        assertThat(report.path("rows").get(0).path("key").toString()).isEqualTo("[\"5\"]");
        CliRun repaired = CliRun.of(cli, "verify", "-f", manifest.toString(), "--server", url, "--repair");
        assertThat(repaired.exitCode()).as(repaired.all()).isZero();
        assertThat(repaired.out()).contains("1 differing rows, 0 not repaired");
        Converge.tables(SOURCE.server(), TARGET.server(), "notes", "id");

        CliRun abort = CliRun.of(cli, "abort", "cli-made", "--server", url);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
        assertThat(abort.out()).contains("rolled_back");
        CliRun badUrl = CliRun.of(cli, "status", "--server", "ctl:8000");
        assertThat(badUrl.exitCode()).as(badUrl.all()).isEqualTo(2);
        assertThat(badUrl.err()).contains("--server ctl:8000: not an http(s) URL");
        CliRun noToken = CliRun.of(Map.of(), "status", "--server", url);
        assertThat(noToken.exitCode()).as("401 is bad input").isEqualTo(2);
        assertThat(noToken.err()).contains("give the token with $TANDEM_TOKEN");
    }

    @Test
    void accessFollowsSeedTwosTable() throws Exception {
        api.call("POST", M, ADMIN, "{\"id\": \"auth-check\"}");
        String one = M + "/auth-check";
        record Case(String method, String path, String token, String body, int status) {
        }
        List<Case> cases = List.of(
                new Case("GET", M, null, null, 401),
                new Case("GET", M, "not-a-token-at-all-xxxx", null, 401),
                new Case("GET", M, READ, null, 200),
                new Case("GET", M, ADMIN, null, 200),
                new Case("POST", M, READ, "{\"id\": \"by-reader\"}", 403),
                new Case("GET", one, READ, null, 403), // seed 002: get migration needs admin
                new Case("GET", one, ADMIN, null, 200),
                new Case("POST", one + "/api/a1", READ, "{}", 403),
                new Case("POST", one + "/interlay/i1", READ, "{\"endpoint\": \"e\"}", 403),
                new Case("POST", one + "/test", READ, null, 403),
                new Case("POST", one + "/migrate", READ, null, 403),
                new Case("PATCH", one, READ, "{\"description\": \"x\"}", 403),
                new Case("POST", one + "/abort", READ, null, 403),
                new Case("GET", one + "/status", READ, null, 200),
                new Case("GET", one + "/audit", READ, null, 200),
                new Case("GET", one + "/status", null, null, 401),
                new Case("GET", "/metrics", null, null, 401),
                new Case("GET", "/metrics", READ, null, 200),
                new Case("GET", "/health", null, null, 200),
                new Case("GET", "/api/v1/openapi.json", null, null, 200));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            Api.Response r = api.call(c.method(), c.path(), c.token(), c.body());
            if (r.status() != c.status()) {
                wrong.add(c + " -> " + r);
            }
            if (c.status() == 401) {
                assertThat(r.json().path("status").asText()).isEqualTo("error");
            }
        }
        assertThat(wrong).isEmpty();
        JsonNode openapi = api.call("GET", "/api/v1/openapi.json", null, null).json();
        assertThat(openapi.path("paths").has("/api/v1/migrations/{id}/advance")).isTrue();
        assertThat(openapi.path("paths").path("/api/v1/migrations").path("post").path("x-role").asText())
                .isEqualTo("admin");
        // server-sent events: a read token may follow them
        HttpResponse<java.io.InputStream> sse = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(server.url() + "/api/v1/events")).header("Authorization",
                "Bearer " + READ).header("Accept", "text/event-stream").timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(sse.statusCode()).isEqualTo(200);
        assertThat(sse.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(sse.body()))) {
            List<String> first = new ArrayList<>();
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
                first.add(line);
            }
            assertThat(first).contains("event: hello");
        }
    }

    @Test
    void badRequestsAnswerWithTheirProblemsNeverA500() throws Exception {
        api.call("POST", M, ADMIN, "{\"id\": \"bad-input\"}");
        String one = M + "/bad-input";
        record Case(String method, String path, String body, int status, String says) {
        }
        List<Case> cases = List.of(
                new Case("POST", M, "{not json", 400, "not JSON"),
                new Case("POST", M, "[1, 2]", 400, "expected a JSON object"),
                new Case("POST", M, "", 400, "expected a JSON object"),
                new Case("POST", M, "{\"description\": \"no id\"}", 400, "id: missing"),
                new Case("POST", M, "{\"id\": \"bad-input\"}", 409, "already exists"),
                new Case("POST", M, "{\"id\": \"x\", \"strategi\": {}}", 400, "did you mean strategy"),
                new Case("POST", M, "{\"id\": \"x\", \"strategy\": {\"type\": \"canary\", \"read_percentage\": 5}, "
                        + "\"data\": {\"chunk_rows\": -1}}", 400, "read_percentage"),
                new Case("POST", M, "{\"id\": \"x\", \"source\": {\"url\": \"postgres://h/db\", \"password\": "
                        + "\"hunter2hunter2\"}}", 400, "is not a JDBC URL"),
                new Case("POST", M, "{\"id\": \"x\", \"source\": {\"url\": \"jdbc:postgresql://h/db\", \"password\": "
                        + "\"hunter2hunter2\"}}", 400, "is written as itself, and would be stored"),
                // the server's environment is read only in credentials: never into a stored, shown or sent field
                new Case("POST", M, "{\"id\": \"x\", \"description\": \"${env:TANDEM_ADMIN_TOKEN}\"}", 400,
                        "are read only in credentials"),
                new Case("POST", M, "{\"id\": \"x\", \"alerting\": {\"rules\": [{\"name\": \"a\", \"condition\": "
                        + "\"lag_seconds > 1\", \"webhook\": \"http://example.com/?t=${env:TANDEM_ADMIN_TOKEN}\"}]}}", 400,
                        "are read only in credentials"),
                new Case("POST", M, "{\"id\": null}", 400, "id: missing"),
                new Case("POST", M, "[".repeat(100_000) + "]".repeat(100_000), 400, "not JSON"),
                new Case("POST", M, "{\"id\": \"x\", \"description\": \"" + "d".repeat(900_000) + "\"}", 400,
                        "characters long"),
                new Case("POST", M, "{\"id\": \"x\", \"description\": \"\\u001b]0;owned\\u0007\"}", 400,
                        "control character U+001B"),
                new Case("GET", M + "/nope", null, 404, "not found"),
                new Case("GET", M + "/nope/status", null, 404, "not found"),
                new Case("GET", one + "/runs/123/chunks", null, 404, "not found"),
                new Case("GET", one + "/runs/abc/chunks", null, 400, "not a run id"),
                new Case("GET", one + "/lag", null, 409, "no change stream"),
                new Case("POST", one + "/resume", null, 409, "expected state paused, actual pending"),
                new Case("POST", one + "/advance", null, 409, "expected state running"),
                new Case("POST", one + "/stop", null, 409, "expected state running"),
                new Case("PATCH", one, "{\"id\": \"other\"}", 400, "cannot change"),
                new Case("PATCH", one, "{\"cdc\": {\"method\": \"telepathy\"}}", 400, "cdc.method"),
                new Case("POST", one + "/api/a1", "{\"id\": \"a2\"}", 400, "differs from the path"),
                new Case("GET", "/api/v1/nothing-here", null, 404, "no such resource"));
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            Api.Response r = api.call(c.method(), c.path(), ADMIN, c.body());
            boolean says = r.json().path("error").toString().contains(c.says());
            if (r.status() != c.status() || !says || !r.json().path("status").asText().equals("error")) {
                wrong.add(c + " -> " + r);
            }
            assertThat(r.text()).doesNotContain("hunter2").doesNotContain("Exception").doesNotContain(ADMIN);
        }
        assertThat(wrong).isEmpty();
        StringBuilder unknown = new StringBuilder("{\"id\": \"x\"");
        for (int i = 0; i < 50_000; i++) {
            unknown.append(", \"k").append(i).append("\": 1");
        }
        Api.Response keys = api.call("POST", M, ADMIN, unknown.append("}").toString());
        assertThat(keys.status()).isEqualTo(400);
        assertThat(keys.json().path("error").path("problems").size()).as("problems listed").isEqualTo(101);
        assertThat(keys.text().length()).as("answer size").isLessThan(100_000);

        // the losers of a race to create one id are told it exists (409), never a 500 with the store's SQL
        List<java.util.concurrent.CompletableFuture<Api.Response>> racing = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            racing.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return api.call("POST", M, ADMIN, "{\"id\": \"raced\"}");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<Integer> statuses = new ArrayList<>();
        for (var r : racing) {
            Api.Response answer = r.get();
            statuses.add(answer.status());
            assertThat(answer.text()).doesNotContain("SQL").doesNotContain("Exception");
        }
        assertThat(statuses).containsOnly(201, 409).containsOnlyOnce(201);

        Api.Response many = api.call("POST", M, ADMIN, "{\"id\": \"x y\", \"strategy\": {\"type\": \"canary\", "
                + "\"read_percentage\": 5}, \"data\": {\"chunk_rows\": -1}}");
        assertThat(many.json().path("error").path("problems")).hasSizeGreaterThanOrEqualTo(3);
        JsonNode p = many.json().path("error").path("problems").get(0);
        assertThat(p.has("path") && p.has("value") && p.has("rule") && p.has("fix")).isTrue();
    }

    private static Map<String, String> withToken(String token) {
        Map<String, String> env = new java.util.HashMap<>(ENV);
        env.put("TANDEM_TOKEN", token);
        return env;
    }

    private static Stream<JsonNode> streamOf(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out.stream();
    }

    /** Updates, inserts and deletes on the source while the migration runs. */
    private static final class Writer extends SourceWriter {
        Writer(long seed) {
            super(SOURCE.server(), seed);
        }

        @Override
        void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
            long id = 1 + r.nextInt(30_000);
            switch ((int) (n % 10)) {
                case 0 -> st.execute("INSERT INTO orders (id, customer, amount) VALUES (" + (100_000 + n)
                        + ", 'new', 1) ON CONFLICT DO NOTHING");
                case 1 -> st.execute("DELETE FROM orders WHERE id = " + id);
                default -> st.execute("UPDATE orders SET amount = amount + 1, updated_at = now() WHERE id = " + id);
            }
            if (n % 50 == 0) {
                Thread.sleep(5);
            }
        }
    }
}
