package dev.tandem.server.api;

import static dev.tandem.server.api.ApiCalls.object;
import static dev.tandem.server.api.ApiCalls.stored;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.ErrorCode;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What routers follow: the routing state ({@code /routing}, a long poll by epoch, held without a server thread: see
 * {@link LongPolls}) and their acknowledgements. A router's token has role router (read tokens see the state but
 * neither mark a router live nor acknowledge: an acknowledgement lets a cutover go on, and a router counted live
 * makes it wait). An acknowledgement is at most {@value #MAX_ACK_BYTES} bytes, and a migration has at most
 * {@code maxRouters} live routers.
 */
final class RoutingApi {
    /** The largest acknowledgement body: a router's counters and up to 5,000 sampled write waits fit well. */
    static final int MAX_ACK_BYTES = 64 * 1024;

    private final ControlStore store;
    private final ApiCalls calls;
    private final LongPolls polls;
    private final int maxRouters;

    RoutingApi(ApiCalls calls, LongPolls polls, int maxRouters) {
        this.calls = calls;
        this.store = calls.store;
        this.polls = polls;
        this.maxRouters = maxRouters;
    }

    void register(ApiCalls.Routes r, String base) {
        String one = base + "/migrations/{id}";
        r.add(HandlerType.GET, one + "/routing", Set.of(Tokens.Role.READ, Tokens.Role.ROUTER),
                "The routing state routers follow (?after_epoch=N: long poll for a newer epoch; ?router_id=: this "
                        + "router is live, router token only)", this::routing);
        r.add(HandlerType.POST, one + "/routing/ack", Tokens.Role.ROUTER,
                "A router acknowledges the epoch it applies ({router_id, epoch, metrics}; router token)",
                this::routingAck);
        r.add(HandlerType.DELETE, one + "/routing/routers/{router}", Tokens.Role.ROUTER,
                "A router that closes leaves: no cutover waits for it any more (router token)", this::leave);
    }

    /**
     * How long a router's long poll waits for a newer epoch before it gets the current state again: short enough
     * that a running router is seen within {@link Routing#LIVE_WINDOW}.
     */
    static final long ROUTING_POLL_MILLIS = Routing.POLL.toMillis();
    /**
     * The longest wait a client may ask for with {@code wait_ms}; a router asking for more than
     * {@link #ROUTING_POLL_MILLIS} is not counted live while its poll outlasts {@link Routing#LIVE_WINDOW}.
     */
    static final long MAX_WAIT_MILLIS = 25_000;

    /**
     * The routing state routers follow ({@code tandem-router}'s {@code RoutingState}): the epoch (the migration
     * record's version: every change of its manifest, state or routing control makes a new one), whether traffic has
     * moved to the target ({@code cut_over}: set by the cutover, cleared by a rollback; without either, whether the
     * migration reached cleanup or completed), whether writes are frozen and for how long a write may wait
     * ({@code frozen}, {@code freeze_timeout_ms}), whether the target may serve reads ({@code target_ready}: running
     * in catch_up or later), and the strategy as written. {@code router_id} marks a known router live (router and
     * admin tokens only). With {@code ?after_epoch=N} it is a long poll: it answers once the epoch passes N, or after
     * {@link Routing#POLL} (or {@code wait_ms}, at most {@link #MAX_WAIT_MILLIS}) with the unchanged state.
     */
    void routing(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        Long after = ctx.queryParamAsClass("after_epoch", Long.class).allowNullable().get();
        long waitMs = Math.max(0, Math.min(MAX_WAIT_MILLIS, ctx.queryParamAsClass("wait_ms", Long.class)
                .getOrDefault(ROUTING_POLL_MILLIS)));
        String routerId = ctx.queryParam("router_id");
        if (routerId != null && !routerId.isBlank()) {
            checkRouterId("router_id", routerId);
            if (ctx.attribute("role") == Tokens.Role.READ) {
                throw new Envelope.ApiError(403, ErrorCode.BAD_INPUT, "router_id: a read token may watch the "
                        + "routing state but not mark a router live (a live router is one a cutover waits for); "
                        + "give the router a router token (role router, or $TANDEM_ROUTER_TOKEN on the server)");
            }
            store.routing().seen(r.id(), routerId);
        }
        if (after == null || r.version() > after || waitMs == 0) {
            answer(ctx, r);
            return;
        }
        String holder = String.valueOf(ctx.<String>attribute("actor"));
        CompletableFuture<MigrationRecord> newer = polls.await(r.id(), after, waitMs, holder);
        ctx.future(() -> newer.thenAccept(m -> answer(ctx, m)));
    }

    private void answer(Context ctx, MigrationRecord r) {
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
        JsonNode doc = stored(r);
        n.put("shadow_read_sample", doc.path("validation").path("shadow_reads").path("sample").asDouble(0));
        var apis = n.putArray("apis");
        doc.path("apis").forEach(a -> apis.add(a.path("id").asText()));
        JsonNode strategy = doc.get("strategy");
        n.set("strategy", strategy != null ? strategy : Json.MAPPER.createObjectNode().put("type", "big_bang"));
        Envelope.ok(ctx, n);
    }

    /** A router says which epoch it applies (it acknowledges every epoch it receives), with its counters. */
    void routingAck(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        long length = ctx.contentLength();
        if (length > MAX_ACK_BYTES || (length < 0 && ctx.bodyAsBytes().length > MAX_ACK_BYTES)) {
            throw new Envelope.ApiError(413, ErrorCode.BAD_INPUT, "request body: " + (length >= 0 ? length + " "
                    : "more than " + MAX_ACK_BYTES + " ") + "bytes; an acknowledgement is at most " + MAX_ACK_BYTES
                    + " bytes (tandem-router samples its write waits to stay well under it)");
        }
        JsonNode body = object(ctx);
        String router = body.path("router_id").asText("");
        if (router.isBlank() || !body.path("epoch").isIntegralNumber()) {
            throw TandemException.badInput("request body: expected {\"router_id\": \"...\", \"epoch\": N}");
        }
        checkRouterId("router_id", router);
        JsonNode metrics = body.get("metrics");
        if (metrics != null && !metrics.isNull() && !metrics.isObject()) {
            throw TandemException.badInput("metrics: expected a JSON object of the router's counters, got "
                    + metrics.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
        }
        store.routing().ack(r.id(), router, body.path("epoch").asLong(), metrics == null || metrics.isNull() ? null
                : metrics.toString(), maxRouters);
        Envelope.ok(ctx, Json.MAPPER.createObjectNode().put("router_id", router).put("epoch",
                body.path("epoch").asLong()));
    }

    /** A router that closes: it holds no write any more, so no cutover or rollback waits for it. */
    void leave(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        String router = ctx.pathParam("router");
        checkRouterId("router", router);
        boolean known = store.routing().leave(r.id(), router, String.valueOf(ctx.<String>attribute("actor")));
        Envelope.ok(ctx, Json.MAPPER.createObjectNode().put("router_id", router).put("left", known));
    }

    /** A router's name is shown to operators: printable, at most 255 characters. */
    private static void checkRouterId(String field, String id) {
        if (id.length() > 255) {
            throw TandemException.badInput(field + ": " + id.length() + " characters, at most 255 are kept; name the "
                    + "router by host and process (e.g. app-7:4121)");
        }
        if (id.codePoints().anyMatch(Character::isISOControl)) {
            throw TandemException.badInput(field + ": contains control characters; name the router by host and "
                    + "process (e.g. app-7:4121)");
        }
    }
}
