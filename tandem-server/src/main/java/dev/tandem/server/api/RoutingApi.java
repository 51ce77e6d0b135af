package dev.tandem.server.api;

import static dev.tandem.server.api.ApiCalls.object;
import static dev.tandem.server.api.ApiCalls.stored;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Routing;
import dev.tandem.server.wire.Json;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.util.Optional;

/** What routers follow: the routing state ({@code /routing}, a long poll by epoch) and their acknowledgements. */
final class RoutingApi {
    private final ControlStore store;
    private final ApiCalls calls;

    RoutingApi(ApiCalls calls) {
        this.calls = calls;
        this.store = calls.store;
    }

    void register(ApiCalls.Routes r, String base) {
        String one = base + "/migrations/{id}";
        r.add(HandlerType.GET, one + "/routing", Tokens.Role.READ,
                "The routing state routers follow (?after_epoch=N: long poll for a newer epoch)", this::routing);
        r.add(HandlerType.POST, one + "/routing/ack", Tokens.Role.READ,
                "A router acknowledges the epoch it applies ({router_id, epoch})", this::routingAck);
    }

    /** How long a router's long poll waits for a newer epoch before it gets the current state again. */
    static final long ROUTING_POLL_MILLIS = 25_000;

    /**
     * The routing state routers follow ({@code tandem-router}'s {@code RoutingState}): the epoch (the migration
     * record's version: every change of its manifest, state or routing control makes a new one), whether traffic has
     * moved to the target ({@code cut_over}: set by the cutover, cleared by a rollback; without either, whether the
     * migration reached cleanup or completed), whether writes are frozen and for how long a write may wait
     * ({@code frozen}, {@code freeze_timeout_ms}), whether the target may serve reads ({@code target_ready}: running
     * in catch_up or later), and the strategy as written. {@code router_id} marks the router live.
     * With {@code ?after_epoch=N} it is a long poll: it answers once the epoch passes N, or after
     * {@value #ROUTING_POLL_MILLIS} ms with the unchanged state.
     */
    void routing(Context ctx) throws InterruptedException {
        MigrationRecord r = calls.record(ctx);
        Long after = ctx.queryParamAsClass("after_epoch", Long.class).allowNullable().get();
        if (after != null) {
            long n = after;
            long waitMs = Math.max(0, Math.min(ROUTING_POLL_MILLIS, ctx.queryParamAsClass("wait_ms", Long.class)
                    .getOrDefault(ROUTING_POLL_MILLIS)));
            long deadline = System.nanoTime() + waitMs * 1_000_000L;
            while (r.version() <= n && System.nanoTime() < deadline) {
                // woken at once by a change in this process; another process's change is seen within 100 ms
                try {
                    store.awaitChange(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000L)));
                } catch (InterruptedException e) {
                    // the server is stopping with this poll waiting: the router keeps its state and asks again
                    Thread.currentThread().interrupt();
                    throw TandemException.badState("the server is stopping; ask again");
                }
                r = store.migrations().get(r.id());
            }
        }
        String routerId = ctx.queryParam("router_id");
        if (routerId != null && !routerId.isBlank()) {
            store.routing().seen(r.id(), routerId);
        }
        Optional<Routing.Control> control = store.routing().find(r.id());
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("migration_id", r.id());
        n.put("epoch", r.version());
        n.put("state", r.status().state().wire());
        n.put("phase", r.status().phase().wire());
        n.put("cut_over", ApiCalls.cutOver(r, control));
        n.put("frozen", control.map(Routing.Control::frozen).orElse(false));
        n.put("target_ready", r.status().state() == MigrationState.RUNNING
                && !r.status().phase().isBefore(Phase.CATCH_UP));
        n.put("freeze_timeout_ms", control.map(Routing.Control::freezeTimeoutMs)
                .orElse(Routing.DEFAULT_FREEZE_TIMEOUT_MS));
        JsonNode strategy = stored(r).get("strategy");
        n.set("strategy", strategy != null ? strategy : Json.MAPPER.createObjectNode().put("type", "big_bang"));
        Envelope.ok(ctx, n);
    }

    /** A router says which epoch it applies (it acknowledges every epoch it receives). */
    void routingAck(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        JsonNode body = object(ctx);
        String router = body.path("router_id").asText("");
        if (router.isBlank() || !body.path("epoch").isIntegralNumber()) {
            throw TandemException.badInput("request body: expected {\"router_id\": \"...\", \"epoch\": N}");
        }
        if (router.length() > 255) {
            throw TandemException.badInput("router_id: " + router.length() + " characters, at most 255 are kept; "
                    + "name the router by host and process (e.g. app-7:4121)");
        }
        JsonNode metrics = body.get("metrics");
        store.routing().ack(r.id(), router, body.path("epoch").asLong(), metrics == null || metrics.isNull() ? null
                : metrics.toString());
        Envelope.ok(ctx, Json.MAPPER.createObjectNode().put("router_id", router).put("epoch",
                body.path("epoch").asLong()));
    }
}
