package dev.tandem.bench;

import static dev.tandem.bench.BackfillBench.say;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.core.cutover.CutoverReport;
import dev.tandem.core.cutover.WritePause;
import dev.tandem.core.store.ControlStore;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingDataSource;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.api.Tokens;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Issue 7's cutover benchmark: the write pause an application sees when Tandem cuts over (and rolls back) under
 * load. A {@code tandem server} (in this JVM, REST on loopback) runs a migration of pgbench_accounts /
 * pgbench_history between two PostgreSQL servers; the application ({@link AppWorkload}, 3/4 pgbench -N write
 * transactions, 1/4 read-only lookups, on a fixed schedule of {@code tps} writes a second) goes through a
 * {@link RoutingDataSource} following the migration's routing state. Once streaming and verified, {@code POST
 * /cutover}, a few seconds on the target, {@code POST /rollback}, a few seconds on the source again. Printed: the
 * write rate reached, each procedure's steps and the write pause its routers measured over every blocked
 * transaction (p50/p99/max), and the application's own write latency around it. The goal is p99 < 250 ms (gh-ost
 * holds its cut-over lock up to 3 s; Vitess allows 30 s). Checked at the end: no transaction failed, pgbench's
 * invariant holds on the source (sum(abalance) = sum(delta)), and every history row the target took is on the source.
 */
final class CutoverBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "cutoverbench";
    private static final String ONE = "/api/v1/migrations/" + ID;
    private static final int ACCOUNTS = 100_000;
    private static final double WRITE_SHARE = 0.75;

    private final int writesPerSecond;
    private final int threads;
    private final HttpClient http = HttpClient.newHttpClient();
    private String base;
    private final String admin = "admin-" + UUID.randomUUID();
    private final String routerToken = "router-" + UUID.randomUUID();

    CutoverBench(int writesPerSecond, int threads) {
        this.writesPerSecond = writesPerSecond;
        this.threads = threads;
    }

    void run() throws Exception {
        say("Cutover benchmark: %,d write transactions/s wanted (pgbench -N, plus 1/3 as many read-only lookups), "
                + "%d application threads, %d cores", writesPerSecond, threads,
                Runtime.getRuntime().availableProcessors());
        try (EmbeddedPostgres source = EmbeddedPostgres.builder().database("bench").setting("max_wal_size", "4GB")
                .start();
             EmbeddedPostgres target = EmbeddedPostgres.builder().database("bench").setting("max_wal_size", "4GB")
                     .start()) {
            source.execute(AppWorkload.SCHEMA);
            source.execute(AppWorkload.fill(ACCOUNTS));
            Path dir = Files.createTempDirectory("tandem-cutoverbench-");
            Map<String, String> env = Map.of("PW_SRC", source.superuserPassword(), "PW_DST",
                    target.superuserPassword(), "TANDEM_ADMIN_TOKEN", admin, "TANDEM_ROUTER_TOKEN", routerToken);
            try (ControlStore store = ControlStore.open(dir.resolve("store").toString(), env::get);
                 ApiServer server = new ApiServer(store, env, Tokens.load(null, env), false).start("127.0.0.1", 0);
                 HikariDataSource sourcePool = pool(source);
                 HikariDataSource targetPool = pool(target);
                 RoutingClient client = new RoutingClient(URI.create("http://127.0.0.1:" + server.port()), ID,
                         routerToken,
                         "bench-router", null);
                 RoutingDataSource router = RoutingDataSource.following(sourcePool, targetPool, client)) {
                base = "http://127.0.0.1:" + server.port();
                call("POST", "/api/v1/migrations", manifest(source, target));
                client.start(); // the migration exists: the router follows it from now on
                AppWorkload app = new AppWorkload(router, threads, ACCOUNTS, WRITE_SHARE,
                        (int) Math.round(writesPerSecond / WRITE_SHARE)).start();
                long t0 = System.nanoTime();
                call("POST", ONE + "/migrate", null);
                await("catch-up", s -> s.path("phase").asText().equals("catch_up"));
                say("backfill done, streaming after %.1f s", BackfillBench.seconds(t0));
                rate(app, "warm-up on the source", 10);

                verify();
                await("the router to be live", s -> s.path("routers").size() == 1);
                JsonNode lag = call("GET", ONE + "/status", null).path("lag");
                say("verified; lag before the cutover: %.1f s, %d records", lag.path("seconds").asDouble(),
                        lag.path("records").asLong());
                rate(app, "on the source", 5);

                CutoverReport cut = procedure(app, "cutover");
                rate(app, "on the target", 5);
                CutoverReport back = procedure(app, "rollback");
                rate(app, "on the source again", 3);
                app.stop();
                say("application: %,d writes, %,d reads, %,d freeze timeouts, 0 failed; router %s",
                        app.writes.get(), app.reads.get(), app.freezeTimeouts.get(), router.stats().snapshot());
                check(source, target);

                say("");
                summary("cutover ", cut);
                summary("rollback", back);
            }
        }
    }

    /** The migration of the benchmark, as the JSON a REST client posts. */
    private static String manifest(EmbeddedPostgres source, EmbeddedPostgres target) {
        return "{\"id\": \"" + ID + "\", "
                + "\"source\": {\"url\": \"" + source.jdbcUrl() + "\", \"user\": \"postgres\", "
                + "\"password\": \"${env:PW_SRC}\"}, "
                + "\"target\": {\"url\": \"" + target.jdbcUrl() + "\", \"user\": \"postgres\", "
                + "\"password\": \"${env:PW_DST}\"}, "
                + "\"scope\": {\"tables\": [\"public.pgbench_accounts\", \"public.pgbench_history\"]}, "
                + "\"data\": {\"type\": \"scan\", \"chunk_rows\": 50000}, "
                + "\"cdc\": {\"method\": \"logical_replication\", \"heartbeat_interval\": \"1s\"}, "
                + "\"validation\": {\"continuous\": true}, "
                + "\"strategy\": {\"type\": \"canary\", \"read_percentage\": 0.25}}";
    }

    /** A verification through REST, waited for until its run ended. */
    private void verify() throws Exception {
        call("POST", ONE + "/verify", null);
        awaitPath(ONE + "/runs", "a finished verification", d -> {
            for (JsonNode r : d.path("runs")) {
                if (r.path("kind").asText().equals("verify") && r.path("status").asText().equals("ENDED")) {
                    return true;
                }
            }
            return false;
        });
    }

    /** Runs the cutover or rollback through REST, prints its report and the application's latency around it. */
    private CutoverReport procedure(AppWorkload app, String name) throws Exception {
        app.resetLatency();
        CutoverReport report = CutoverReport.of(call("POST", ONE + "/" + name, null).path("report"));
        Thread.sleep(1000);
        print(name, report, new double[] {app.writeLatencyMs(50), app.writeLatencyMs(99), app.writeLatencyMs(100)});
        return report;
    }

    private static void print(String name, CutoverReport report, double[] appLatency) {
        if (!report.completed()) {
            throw new IllegalStateException(name + " failed: " + report.toJson().toPrettyString());
        }
        StringBuilder steps = new StringBuilder();
        for (CutoverReport.Step s : report.steps()) {
            steps.append(s.step()).append(' ').append(s.ms()).append(" ms, ");
        }
        say("%s: %s", name, steps.substring(0, Math.max(0, steps.length() - 2)));
        CutoverReport.Verification v = report.verification();
        if (v != null && v.keysQueued() != null) {
            say("%s: %d applied rows queued for comparison at the freeze, %d compared in it%s", name, v.keysQueued(),
                    v.verifiedRows(), v.note() != null ? " (" + v.note() + ")" : "");
        }
        WritePause.Summary p = report.writePause();
        say("%s: frozen %.1f ms; write pause over %d blocked transactions p50 %.1f / p99 %.1f / max %.1f ms, "
                        + "%d freeze timeouts", name, report.freeze().freezeMs(), p.blockedTransactions(), p.p50Ms(),
                p.p99Ms(), p.maxMs(), p.timeouts());
        say("%s: application write latency over the procedure's second: p50 %.1f / p99 %.1f / max %.1f ms", name,
                appLatency[0], appLatency[1], appLatency[2]);
    }

    private void summary(String name, CutoverReport report) {
        WritePause.Summary p = report.writePause();
        say("%s write pause p99 %6.1f ms, max %6.1f ms (goal p99 < 250 ms) at %,d writes/s wanted", name,
                p.p99Ms(), p.maxMs(), writesPerSecond);
    }

    /** Measures and prints the transaction rate for {@code secs}. */
    private static void rate(AppWorkload app, String where, int secs) throws InterruptedException {
        long w0 = app.writes.get();
        long r0 = app.reads.get();
        Thread.sleep(secs * 1000L);
        if (app.failure() != null) {
            throw new IllegalStateException("a transaction failed: " + app.failure(), app.failure());
        }
        say("  %-22s %,7.0f writes/s, %,7.0f reads/s", where, (app.writes.get() - w0) / (double) secs,
                (app.reads.get() - r0) / (double) secs);
    }

    private static void check(EmbeddedPostgres source, EmbeddedPostgres target) throws SQLException {
        try (Connection s = source.connect(); Connection t = target.connect()) {
            long broken = single(s, "SELECT (SELECT sum(abalance) FROM pgbench_accounts) - (SELECT "
                    + "coalesce(sum(delta), 0) FROM pgbench_history)");
            if (broken != 0) {
                throw new IllegalStateException("source: sum(abalance) - sum(delta) = " + broken + ", not 0");
            }
            long maxOnTarget = single(t, "SELECT coalesce(max(hid), 0) FROM pgbench_history");
            TableComparison.Result r = TableComparison.compare(s, t, "public.pgbench_history", "hid",
                    "hid <= " + maxOnTarget);
            if (!r.equal()) {
                throw new IllegalStateException("history rows the target took differ on the source: " + r);
            }
            say("checked: sum(abalance) = sum(delta) on the source; the %,d history rows up to the target's newest "
                    + "are equal on both sides", r.sourceRows());
        }
    }

    private static long single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static HikariDataSource pool(EmbeddedPostgres db) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(db.jdbcUrl());
        c.setUsername(EmbeddedPostgres.SUPERUSER);
        c.setPassword(db.superuserPassword());
        c.setMaximumPoolSize(32);
        return new HikariDataSource(c);
    }

    private void await(String what, Predicate<JsonNode> done) throws Exception {
        awaitPath(ONE + "/status", what, done);
    }

    private void awaitPath(String path, String what, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (true) {
            JsonNode d = call("GET", path, null);
            if (done.test(d)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what + ": " + d);
            }
            Thread.sleep(200);
        }
    }

    /** One REST call with the admin token; its {@code data}, or an exception with the answer. */
    private JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(3))
                .header("Authorization", "Bearer " + admin)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).path("data");
    }
}
