package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.wire.Pem;
import dev.tandem.testkit.TestCertificates;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's surface as a hostile or careless client meets it: routers have their own token and bounded
 * acknowledgements, a migration a bounded number of live routers, long polls hold no server thread (300 of them leave
 * {@code /health} answering) and a bounded number per token; the server listens on loopback by default and speaks
 * HTTPS when given a certificate.
 */
class ServerSurfaceIT {
    private static final String ADMIN = "surface-admin-token-0123456789";
    private static final String READ = "surface-read-token-0123456789";
    private static final String ROUTER = "surface-router-token-0123456789";
    private static final Map<String, String> ENV = Map.of("TANDEM_ADMIN_TOKEN", ADMIN, "TANDEM_READ_TOKEN", READ,
            "TANDEM_ROUTER_TOKEN", ROUTER);
    private static final String ONE = "/api/v1/migrations/surface";

    @TempDir
    Path dir;

    @Test
    void routersAcknowledgeWithTheirOwnTokenBoundedInSizeAndNumber() throws Exception {
        try (InProcessServer server = new InProcessServer(dir.resolve("store"), ENV, 0,
                new ApiServer.Options(3, 1024, null))) {
            Api api = server.api;
            assertThat(api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"surface\"}").status())
                    .isEqualTo(201);
            long epoch = api.call("GET", ONE + "/routing", ROUTER, null).data().path("epoch").asLong();

            Api.Response big = api.call("POST", ONE + "/routing/ack", ROUTER, "{\"router_id\": \"app-1\", "
                    + "\"epoch\": " + epoch + ", \"metrics\": {\"pad\": \"" + "x".repeat(70_000) + "\"}}");
            assertThat(big.status()).as(big.toString()).isEqualTo(413);
            assertThat(big.json().path("error").path("message").asText()).contains("at most 65536 bytes");
            Api.Response notObject = api.call("POST", ONE + "/routing/ack", ROUTER, "{\"router_id\": \"app-1\", "
                    + "\"epoch\": " + epoch + ", \"metrics\": [1, 2]}");
            assertThat(notObject.status()).as(notObject.toString()).isEqualTo(400);
            Api.Response escape = api.call("POST", ONE + "/routing/ack", ROUTER, "{\"router_id\": \"app\\u001b[2J\", "
                    + "\"epoch\": " + epoch + "}");
            assertThat(escape.status()).as(escape.toString()).isEqualTo(400);
            assertThat(escape.json().path("error").path("message").asText()).contains("control characters");

            for (String id : List.of("app-1", "app-2", "app-3")) {
                Api.Response ack = api.call("POST", ONE + "/routing/ack", ROUTER, ack(id, epoch));
                assertThat(ack.status()).as(ack.toString()).isEqualTo(200);
            }
            Api.Response fourth = api.call("POST", ONE + "/routing/ack", ROUTER, ack("app-4", epoch));
            assertThat(fourth.status()).as(fourth.toString()).isEqualTo(409);
            assertThat(fourth.json().path("error").path("message").asText()).contains("already has 3 live routers",
                    "--max-routers 3", "router 'app-4' is refused");
            assertThat(api.call("POST", ONE + "/routing/ack", ROUTER, ack("app-2", epoch)).status())
                    .as("a router already known keeps acknowledging").isEqualTo(200);
            JsonNode routers = api.call("GET", ONE + "/status", READ, null).data().path("routers");
            assertThat(routers.size()).isEqualTo(3);
            assertThat(routers.toString()).doesNotContain("app-4");

            // the admin token may do what a router does; a read token may not
            assertThat(api.call("POST", ONE + "/routing/ack", ADMIN, ack("app-1", epoch)).status()).isEqualTo(200);
            assertThat(api.call("POST", ONE + "/routing/ack", READ, ack("app-1", epoch)).status()).isEqualTo(403);
            JsonNode openapi = api.call("GET", "/api/v1/openapi.json", null, null).json();
            assertThat(openapi.path("paths").path("/api/v1/migrations/{id}/routing/ack").path("post")
                    .path("x-role").asText()).isEqualTo("router");
        }
    }

    @Test
    void heldLongPollsLeaveTheServerAnsweringAndAreBoundedPerToken() throws Exception {
        int cap = 300;
        try (InProcessServer server = new InProcessServer(dir.resolve("store"), ENV, 0,
                new ApiServer.Options(256, cap, null))) {
            Api api = server.api;
            assertThat(api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"surface\"}").status())
                    .isEqualTo(201);
            long epoch = api.call("GET", ONE + "/routing", ROUTER, null).data().path("epoch").asLong();
            List<CompletableFuture<Api.Response>> polls = new ArrayList<>();
            for (int i = 0; i < cap; i++) {
                polls.add(api.send("GET", ONE + "/routing?after_epoch=" + epoch + "&wait_ms=25000", ROUTER));
            }
            // every poll is held by the server (its gauge says so) before the next one is judged
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!api.call("GET", "/metrics", READ, null).text().contains("tandem_routing_long_polls " + cap
                    + ".0") && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Api.Response over = api.call("GET", ONE + "/routing?after_epoch=" + epoch + "&wait_ms=1", ROUTER, null);
            assertThat(over.status()).as("the poll past the token's cap: " + over).isEqualTo(429);
            assertThat(over.json().path("error").path("message").asText()).contains("already holds 300 routing "
                    + "long polls", "--max-long-polls");

            Api.Response health = api.call("GET", "/health", null, null);
            assertThat(health.status()).isEqualTo(200);
            Api.Response status = api.call("GET", ONE + "/status", READ, null);
            assertThat(status.status()).isEqualTo(200);
            assertThat(polls).as("answered while all %d long polls were held", cap)
                    .noneMatch(CompletableFuture::isDone);
            assertThat(api.call("GET", ONE + "/routing?after_epoch=" + epoch + "&wait_ms=1", READ, null).status())
                    .as("another token has its own allowance").isEqualTo(200);

            assertThat(api.call("PATCH", ONE, ADMIN, "{\"description\": \"next epoch\"}").status()).isEqualTo(200);
            for (CompletableFuture<Api.Response> p : polls) {
                Api.Response r = p.get(30, TimeUnit.SECONDS);
                assertThat(r.status()).as(r.toString()).isEqualTo(200);
                assertThat(r.data().path("epoch").asLong()).isGreaterThan(epoch);
            }
            Api.Response again = api.call("GET", ONE + "/routing?after_epoch=" + (epoch + 100) + "&wait_ms=1",
                    ROUTER, null);
            assertThat(again.status()).as("answered polls give their places back: " + again).isEqualTo(200);
        }
    }

    @Test
    void listensOnLoopbackByDefaultAndSpeaksOnlyHttpsWithACertificate() throws Exception {
        TestCertificates certs = TestCertificates.create(dir.resolve("certs"), "Tandem Surface Test CA");
        int port = freePort();
        Path log = dir.resolve("server.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Path.of("target", "tandem.jar").toAbsolutePath().toString(), "server", "--port",
                String.valueOf(port), "--store", dir.resolve("store").toString(), "--tls-cert",
                certs.serverCertPem().toString(), "--tls-key", certs.serverKeyPem().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(ENV);
        Process server = pb.start();
        try {
            SSLContext trust = Pem.trusting("ca", certs.caPem());
            Api https = new Api("https://localhost:" + port, trust);
            awaitHealth(https, server, log);
            Matcher m = Pattern.compile("on (https?)://([^:]+):(\\d+)/api/v1").matcher(Files.readString(log));
            assertThat(m.find()).as(Files.readString(log)).isTrue();
            assertThat(m.group(1)).isEqualTo("https");
            assertThat(m.group(2)).as("loopback unless --host says otherwise").isEqualTo("127.0.0.1");

            assertThat(https.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"surface\"}").status())
                    .isEqualTo(201);
            assertThatThrownBy(() -> new Api("http://127.0.0.1:" + port).call("GET", "/health", null, null))
                    .as("no plain HTTP beside HTTPS").isInstanceOf(IOException.class);
            assertThatThrownBy(() -> new Api("https://localhost:" + port).call("GET", "/health", null, null))
                    .as("a client that does not trust the CA is refused").isInstanceOf(IOException.class);

            // the CLI's remote verbs trust the CA they are given
            CliRun status = CliRun.of(Map.of("TANDEM_TOKEN", READ), "status", "surface", "--server",
                    "https://localhost:" + port, "--server-ca", certs.caPem().toString(), "--json");
            assertThat(status.exitCode()).as(status.all()).isZero();
            assertThat(Api.parse(status.out()).path("status").asText()).isEqualTo("pending");
            CliRun untrusted = CliRun.of(Map.of("TANDEM_TOKEN", READ), "status", "surface", "--server",
                    "https://localhost:" + port);
            assertThat(untrusted.exitCode()).as(untrusted.all()).isNotZero();
        } finally {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
        }

        Path open = dir.resolve("open.key");
        Files.copy(certs.serverKeyPem(), open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        CliRun refused = CliRun.of(ENV, "server", "--port", "0", "--store", dir.resolve("store2").toString(),
                "--tls-cert", certs.serverCertPem().toString(), "--tls-key", open.toString());
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(2);
        assertThat(refused.err()).contains("readable by other users", "chmod 600 " + open);
        CliRun half = CliRun.of(ENV, "server", "--port", "0", "--tls-cert", certs.serverCertPem().toString());
        assertThat(half.exitCode()).as(half.all()).isEqualTo(2);
        assertThat(half.err()).contains("--tls-cert without --tls-key");
    }

    private static String ack(String router, long epoch) {
        return "{\"router_id\": \"" + router + "\", \"epoch\": " + epoch + ", \"metrics\": {\"reads_source\": 1}}";
    }

    private static void awaitHealth(Api api, Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (api.call("GET", "/health", null, null).status() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive()) {
                throw new AssertionError("the server exited: " + Files.readString(log));
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the server did not answer within 60 s: " + Files.readString(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
