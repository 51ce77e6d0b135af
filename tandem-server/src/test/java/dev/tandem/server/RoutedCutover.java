package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingDataSource;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * A cutover and a rollback through the REST control plane with an application writing throughout: a
 * {@link RoutedWorkload} through a {@code RoutingDataSource} over the application's two pools, the migration run to
 * catch-up, a clean verification (the cutover's gate), the cutover (writes on the target follow), the reverse stream's
 * lag, the rollback (writes back on the source). Fails on any transaction failed other than by the freeze timeout.
 * The caller checks the data afterwards.
 */
final class RoutedCutover {
    static final String ADMIN = "admin-token-routed-cutover-0123456789";
    static final String READ = "read-token-routed-cutover-0123456789";
    static final String ROUTER = "router-token-routed-cutover-0123456789";

    private RoutedCutover() {
    }

    /** A control plane whose env has {@code PW} = {@code password} and this class's tokens. */
    static InProcessServer server(Path storeDir, String password) {
        return new InProcessServer(storeDir, Map.of("PW", password, "TANDEM_ADMIN_TOKEN", ADMIN, "TANDEM_READ_TOKEN",
                READ, "TANDEM_ROUTER_TOKEN", ROUTER));
    }

    /** {@link RoutedWorkload}'s tables on MariaDB, ids from AUTO_INCREMENT, {@code accounts} accounts of 1000. */
    static String[] mariaDbTables(int accounts) {
        return new String[] {"CREATE TABLE accounts (id bigint AUTO_INCREMENT PRIMARY KEY, balance bigint NOT NULL, "
                + "updated_at datetime(6) NOT NULL DEFAULT now(6))",
            "INSERT INTO accounts (balance) SELECT 1000 FROM seq_1_to_" + accounts,
            "CREATE TABLE events (id bigint AUTO_INCREMENT PRIMARY KEY, account_id bigint NOT NULL, "
                + "amount bigint NOT NULL, at datetime(6) NOT NULL DEFAULT now(6))"};
    }

    /** The application's pool of user {@code migrator}. */
    static com.zaxxer.hikari.HikariDataSource pool(String url, String password) {
        com.zaxxer.hikari.HikariConfig c = new com.zaxxer.hikari.HikariConfig();
        c.setJdbcUrl(url);
        c.setUsername("migrator");
        c.setPassword(password);
        c.setMaximumPoolSize(8);
        return new com.zaxxer.hikari.HikariDataSource(c);
    }

    /**
     * Registers migration {@code id} of tables accounts and events from {@code sourceUrl} to {@code targetUrl} (user
     * migrator, password {@code ${env:PW}}): schema create, binlog stream, big bang.
     */
    static void create(InProcessServer server, String id, String sourceUrl, String targetUrl) throws Exception {
        String manifest = "{\"id\": \"" + id + "\", "
                + "\"source\": {\"url\": \"" + sourceUrl + "\", \"user\": \"migrator\", \"password\": \"${env:PW}\"},"
                + "\"target\": {\"url\": \"" + targetUrl + "\", \"user\": \"migrator\", \"password\": \"${env:PW}\"},"
                + "\"scope\": {\"tables\": [\"accounts\", \"events\"]}, \"schema\": \"create\","
                + "\"data\": {\"chunk_rows\": 1000},"
                + "\"cdc\": {\"method\": \"binlog\", \"heartbeat_interval\": \"1s\"},"
                + "\"strategy\": {\"type\": \"big_bang\"}}";
        Api.Response created = server.api.call("POST", "/api/v1/migrations", ADMIN, manifest);
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
    }

    /**
     * @param beforeCutover run once the migration streams, just before the cutover (with the workload running)
     * @return the cutover's report
     */
    static JsonNode cutOverAndRollBack(InProcessServer server, String id, DataSource sourcePool, DataSource targetPool,
                                       int accounts, Runnable beforeCutover) throws Exception {
        Api api = server.api;
        String one = "/api/v1/migrations/" + id;
        try (RoutingClient client = new RoutingClient(URI.create(server.url()), id, ROUTER, "app-1", null);
             RoutingDataSource router = RoutingDataSource.following(sourcePool, targetPool, client)) {
            client.start();
            RoutedWorkload app = new RoutedWorkload(router, 4, accounts).start();
            JsonNode report;
            try {
                assertThat(api.call("POST", one + "/migrate", ADMIN, null).status()).isEqualTo(202);
                api.await(one + "/status", READ, 180, "catch_up", st -> st.path("phase").asText().equals("catch_up"));
                api.await(one + "/status", READ, 60, "the router is live", st -> st.path("routers").size() == 1);
                // the cutover's gate: a finished clean verification
                assertThat(api.call("POST", one + "/verify", ADMIN, null).status()).isEqualTo(202);
                api.await(one + "/runs", READ, 180, "a verify run ended", d -> {
                    for (JsonNode r : d.path("runs")) {
                        if (r.path("kind").asText().equals("verify") && r.path("status").asText().equals("ENDED")) {
                            return true;
                        }
                    }
                    return false;
                });
                beforeCutover.run();
                long before = app.writes.get();
                Api.Response cut = api.call("POST", one + "/cutover", ADMIN, null);
                assertThat(cut.status()).as(cut.toString()).isEqualTo(200);
                report = cut.data().path("report");
                System.out.println("cutover report: " + report.toPrettyString());
                assertThat(report.path("outcome").asText()).as(report.toString()).isEqualTo("completed");
                awaitWrites("writes on the target", () -> router.stats().writesTarget());
                assertThat(app.writes.get()).isGreaterThan(before);
                api.await(one + "/lag", ADMIN, 60, "the reverse stream's lag", d -> d.path("stream").asText()
                        .equals("reverse") && d.path("lag").path("seconds").asDouble() < 5);

                Api.Response back = api.call("POST", one + "/rollback", ADMIN, null);
                assertThat(back.status()).as(back.toString()).isEqualTo(200);
                System.out.println("rollback report: " + back.data().toPrettyString());
                assertThat(back.data().path("report").path("outcome").asText()).as(back.toString())
                        .isEqualTo("completed");
                awaitWrites("writes back on the source", () -> router.stats().writesSource());
            } finally {
                Throwable failed = app.stopAndJoin();
                assertThat(failed).as("no transaction failed (other than by the freeze timeout)").isNull();
                System.out.printf("workload: %,d reads, %,d writes, %,d freeze timeouts; router %s%n",
                        app.reads.get(), app.writes.get(), app.freezeTimeouts.get(), router.stats().snapshot());
            }
            return report;
        }
    }

    /** Waits (up to 60 s) until {@code counter} moved on by 200. */
    private static void awaitWrites(String what, java.util.function.LongSupplier counter) throws Exception {
        long start = counter.getAsLong();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (counter.getAsLong() < start + 200) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
