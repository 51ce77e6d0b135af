package dev.tandem.router;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a migration's routing state on the control plane: long-polls {@code GET /api/v1/migrations/{id}/routing
 * ?after_epoch=N}, applies each new epoch, and acknowledges it ({@code POST .../routing/ack}). When the control plane
 * cannot be reached it keeps the last state it had — it never flips on its own — and tries again with backoff (1 s
 * doubling to 10 s). Until the first answer the state is {@link RoutingState#ALL_SOURCE}.
 * <p>A {@link Follower} (the routing DataSource) applies each state before it is acknowledged: a state that freezes
 * writes is acknowledged only once the router's write transactions in flight drained — that acknowledgement is what
 * the cutover waits for. Until then the client asks again every 200 ms, so a newer state (the control plane gave up
 * and unfroze) still reaches it.
 */
public final class RoutingClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoutingClient.class);

    private final URI base;
    private final String migrationId;
    private final String token;
    private final String routerId;
    private final String instanceId;
    private final HttpClient http;
    private final AtomicReference<RoutingPolicy> policy;
    private volatile Follower follower;
    private volatile boolean connected;
    private volatile boolean closed;
    private Thread thread;

    /**
     * @param server     e.g. {@code https://ctl:8000}
     * @param token      a router token (role router: follow and acknowledge, nothing more), or null
     * @param routerId   this router's name in the control plane's status (e.g. host and pid)
     * @param instanceId this application instance's id (rolling_update), or null
     */
    public RoutingClient(URI server, String migrationId, String token, String routerId, String instanceId) {
        this(server, migrationId, token, routerId, instanceId, null);
    }

    /** @param tls for an https server whose CA the JVM does not trust by default, else null */
    public RoutingClient(URI server, String migrationId, String token, String routerId, String instanceId,
                         SSLContext tls) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        this.http = (tls == null ? b : b.sslContext(tls)).build();
        this.base = URI.create(server.toString().replaceAll("/+$", "") + "/api/v1/migrations/" + migrationId);
        this.migrationId = migrationId;
        this.token = token;
        this.routerId = routerId;
        this.instanceId = instanceId;
        this.policy = new AtomicReference<>(new RoutingPolicy(RoutingState.ALL_SOURCE, instanceId, migrationId));
    }

    /** Applies each routing state before the client acknowledges it, and says what the acknowledgement reports. */
    public interface Follower {
        /**
         * Called for each new state (and again while it returns false); returns whether the state is in effect —
         * for a frozen state: no write transaction is in flight any more. May wait up to {@code waitMs}.
         */
        boolean apply(RoutingState state, long waitMs) throws InterruptedException;

        /** The router's counters, sent with every acknowledgement. */
        Map<String, Object> report();
    }

    /** Sets the follower; call before {@link #start}. */
    public RoutingClient follower(Follower f) {
        this.follower = f;
        return this;
    }

    /** The decisions of the newest state received. */
    public RoutingPolicy policy() {
        return policy.get();
    }

    /** Whether the last call to the control plane succeeded. */
    public boolean connected() {
        return connected;
    }

    public synchronized RoutingClient start() {
        if (thread == null) {
            thread = new Thread(this::loop, "tandem-routing-" + migrationId);
            thread.setDaemon(true);
            thread.start();
        }
        return this;
    }

    private void loop() {
        long backoff = 1000;
        boolean first = true;
        boolean acked = false;
        while (!closed) {
            long epoch = policy.get().state().epoch();
            try {
                String query = "?router_id=" + URLEncoder.encode(routerId, StandardCharsets.UTF_8)
                        + (first ? "" : "&after_epoch=" + epoch + (acked ? "" : "&wait_ms=200"));
                HttpResponse<String> r = http.send(request(base + "/routing" + query)
                        .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("HTTP " + r.statusCode() + ": " + (r.body().length() > 300
                            ? r.body().substring(0, 300) : r.body()));
                }
                Object root = JsonReader.parse(r.body());
                RoutingState state = RoutingState.from(root instanceof Map<?, ?> m ? m.get("data") : null);
                if (first || state.epoch() != epoch) {
                    policy.set(new RoutingPolicy(state, instanceId, migrationId));
                    acked = false;
                }
                if (!acked) {
                    Follower f = follower;
                    boolean applied = f == null || f.apply(state, state.frozen() ? 200 : 1000);
                    if (applied) {
                        ack(state.epoch(), f == null ? Map.of() : f.report()); // throws: acknowledged again
                    }
                    acked = applied;
                }
                if (!connected) {
                    LOG.info("routing of {}: following epoch {} ({})", migrationId, state.epoch(), state.type());
                }
                connected = true;
                first = false;
                backoff = 1000;
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                if (connected || first) {
                    LOG.warn("routing of {}: control plane unreachable ({}); keeping epoch {}", migrationId,
                            e instanceof IllegalStateException ? e.getMessage() : e.getClass().getSimpleName(), epoch);
                }
                connected = false;
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = Math.min(10_000, backoff * 2);
            }
        }
    }

    private void ack(long epoch, Map<String, Object> report) throws Exception {
        String body = "{\"router_id\": " + JsonReader.quote(routerId) + ", \"epoch\": " + epoch + ", \"metrics\": "
                + JsonReader.write(report) + "}";
        HttpResponse<String> r = http.send(request(base + "/routing/ack").timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            // a refused acknowledgement (a read token: 403; past the server's router cap: 409) leaves a cutover
            // waiting for this router: say why, each time
            LOG.warn("routing of {}: the control plane refused the acknowledgement of epoch {} (HTTP {}): {}",
                    migrationId, epoch, r.statusCode(), r.body().length() > 500 ? r.body().substring(0, 500)
                    : r.body());
            throw new IllegalStateException("HTTP " + r.statusCode() + " on acknowledging");
        }
    }

    /** Tells the control plane this router is gone, so no cutover waits for it (best effort, at most 2 s). */
    private void leave() {
        try {
            http.send(request(base + "/routing/routers/" + URLEncoder.encode(routerId, StandardCharsets.UTF_8)
                    .replace("+", "%20")).timeout(Duration.ofSeconds(2)).DELETE().build(),
                    HttpResponse.BodyHandlers.discarding());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.info("routing of {}: could not say this router leaves ({}); it stops counting as live after a "
                    + "minute", migrationId, e.getClass().getSimpleName());
        }
    }

    private HttpRequest.Builder request(String uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(uri));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    @Override
    /** Stops following and deregisters this router from the migration (a cutover no longer waits for it). */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(2_000); // an acknowledgement still in flight would register the router again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            leave();
        }
    }
}
