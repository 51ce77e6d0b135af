package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.store.Routing;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingPolicy;
import dev.tandem.router.RoutingState;
import dev.tandem.router.Side;
import dev.tandem.router.TandemContext;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tandem-router's RoutingClient against a real control plane: it follows each new epoch as the strategy is PATCHed
 * (and acknowledges it), keeps its last state while the control plane is down — routing goes on unchanged — and
 * catches up when a server is back on the same store.
 */
class RoutingClientIT {
    private static final String ADMIN = "routing-admin-token-0123456789";
    private static final String READ = "routing-read-token-0123456789";
    private static final String ROUTER = "routing-router-token-0123456789";
    private static final Map<String, String> ENV = Map.of("TANDEM_ADMIN_TOKEN", ADMIN, "TANDEM_READ_TOKEN", READ,
            "TANDEM_ROUTER_TOKEN", ROUTER);
    private static final String ONE = "/api/v1/migrations/routed";

    @TempDir
    Path dir;

    @Test
    void followsEpochsAndKeepsTheLastStateWhileTheControlPlaneIsAway() throws Exception {
        InProcessServer server = new InProcessServer(dir.resolve("store"), ENV);
        int port = server.port();
        server.api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"routed\", \"strategy\": {\"type\": "
                + "\"canary\", \"read_percentage\": 0.0}}");
        try (RoutingClient client = new RoutingClient(URI.create(server.url()), "routed", ROUTER, "app-1", null)
                .start()) {
            awaitTrue(client::connected, "connected");
            assertThat(share(client)).isZero();

            server.api.call("PATCH", ONE, ADMIN, "{\"strategy\": {\"type\": \"canary\", \"read_percentage\": 0.5}}");
            long epoch = server.api.call("GET", ONE + "/routing", READ, null).data().path("epoch").asLong();
            awaitTrue(() -> client.policy().state().epoch() == epoch, "epoch " + epoch + " followed");
            assertThat(share(client)).isBetween(0.45, 0.55);
            awaitTrue(() -> server.api.call("GET", ONE + "/status", READ, null).data().path("routers").toString()
                    .contains("\"epoch\":" + epoch), "epoch acknowledged");

            server.close(); // the control plane goes away
            awaitTrue(() -> !client.connected(), "disconnected");
            assertThat(client.policy().state().epoch()).as("never flips on its own").isEqualTo(epoch);
            assertThat(share(client)).isBetween(0.45, 0.55);
            assertThat(client.policy().reads(new TandemContext("u-1", null, null))).isEqualTo(Side.SOURCE);

            InProcessServer again = new InProcessServer(dir.resolve("store"), ENV, port);
            try {
                again.api.call("PATCH", ONE, ADMIN, "{\"strategy\": {\"type\": \"blue_green\", "
                        + "\"active_is_new\": true}}");
                awaitTrue(() -> client.connected() && client.policy().state().type().equals("blue_green"),
                        "caught up after the restart");
                assertThat(share(client)).isEqualTo(1.0);
            } finally {
                again.close();
            }
        }
    }

    @Test
    void aRouterThatClosesLeavesAndOneWithAReadTokenIsNeverLive() throws Exception {
        try (InProcessServer server = new InProcessServer(dir.resolve("store"), ENV)) {
            server.api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"routed\"}");
            RoutingClient reader = new RoutingClient(URI.create(server.url()), "routed", READ, "reader-1", null)
                    .start();
            RoutingClient client = new RoutingClient(URI.create(server.url()), "routed", ROUTER, "app-2", null)
                    .start();
            awaitTrue(() -> routers(server).contains("\"router_id\":\"app-2\""), "app-2 acknowledged");
            assertThat(reader.connected()).as("a read token may not follow as a router").isFalse();
            assertThat(routers(server)).doesNotContain("reader-1");

            client.close(); // an application shutting down: no cutover should wait for this router any more
            reader.close();
            assertThat(routers(server)).isEqualTo("[]");
            assertThat(server.api.call("GET", ONE + "/audit", READ, null).data().toString())
                    .contains("router_left", "router app-2 closed");
        }
    }

    /**
     * A router that dies without closing (it acknowledged, then its process was killed: it never asks again) stops
     * counting as live {@link Routing#LIVE_WINDOW} after its last request (it used to count for 60 s, keeping every
     * cutover and rollback waiting), while a running router, whose long polls last at most {@link Routing#POLL}, stays
     * live all along.
     */
    @Test
    void aRouterThatDiedStopsCountingAfterItsPollAndAGraceWhileARunningOneStays() throws Exception {
        try (InProcessServer server = new InProcessServer(dir.resolve("store"), ENV);
             RoutingClient running = new RoutingClient(URI.create(server.url()), "routed", ROUTER, "app-running",
                     null)) {
            server.api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"routed\"}");
            running.start();
            long epoch = server.api.call("GET", ONE + "/routing", READ, null).data().path("epoch").asLong();
            Api.Response ack = server.api.call("POST", ONE + "/routing/ack", ROUTER, "{\"router_id\": "
                    + "\"app-killed\", \"epoch\": " + epoch + "}");
            assertThat(ack.status()).as(ack.toString()).isEqualTo(200);
            awaitTrue(() -> live(server, "app-running") && live(server, "app-killed"), "both live");
            // within awaitTrue's 30 s: the old 60 s window would fail here
            awaitTrue(() -> !live(server, "app-killed"), "the killed router no longer live");
            assertThat(live(server, "app-running")).as("a router that keeps polling stays live").isTrue();
        }
    }

    private static boolean live(InProcessServer server, String router) throws Exception {
        for (var r : server.api.call("GET", ONE + "/status", READ, null).data().path("routers")) {
            if (r.path("router_id").asText().equals(router)) {
                return r.path("live").asBoolean();
            }
        }
        return false;
    }

    private static String routers(InProcessServer server) throws Exception {
        return server.api.call("GET", ONE + "/status", READ, null).data().path("routers").toString();
    }

    /**
     * The share of users the client's current state sends to the target once the target holds the data (this
     * migration never runs, so the served state says target_ready false and every read stays on the source).
     */
    private static double share(RoutingClient client) {
        RoutingState s = client.policy().state();
        assertThat(s.targetReady()).as("a migration that is not running has no readable target").isFalse();
        RoutingPolicy ready = new RoutingPolicy(new RoutingState(s.epoch(), s.cutOver(), s.frozen(),
                s.freezeTimeoutMs(), true, s.type(), s.strategy(), s.shadowReadSample(), s.apis()), null, "m");
        int target = 0;
        for (int u = 0; u < 4000; u++) {
            if (ready.reads(new TandemContext("user-" + u, null, null)) == Side.TARGET) {
                target++;
            }
        }
        return target / 4000.0;
    }

    interface Check {
        boolean ok() throws Exception;
    }

    private static void awaitTrue(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (check.ok()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " did not happen within 30 s");
    }
}
