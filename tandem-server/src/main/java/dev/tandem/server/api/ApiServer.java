package dev.tandem.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.Problem;
import dev.tandem.core.migrate.PhaseGates;
import dev.tandem.core.store.ControlStore;
import dev.tandem.server.cli.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.javalin.security.RouteRole;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tandem server}: the REST control plane (DESIGN.md "Control plane"; seed 002's shapes and access table,
 * seed 001's /advance, /abort, /status, seed 000's /lag and /stop). Every answer is
 * {@code {"status":"success","data":...}} or {@code {"status":"error","error":{code, message, problems}}}; bad
 * input is 400 with every problem (path, value, rule, fix), an unknown id 404, an illegal transition 409 with the
 * expected and actual states, a missing or unknown token 401, a read token on an admin operation 403. A 500 never
 * carries a stack trace (it is logged). Tokens are never logged.
 */
public final class ApiServer implements AutoCloseable {
    static final String BASE = "/api/v1";
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    /** Routes anyone may call: liveness and the API's own description. */
    private static final RouteRole PUBLIC = new RouteRole() {
        @Override
        public String toString() {
            return "public";
        }
    };

    /** One operation: what the OpenAPI document lists and what the auth check enforces. */
    record Route(HandlerType method, String path, RouteRole role, String summary, Handler handler) {
    }

    private final Javalin app;
    private final Orchestrator orchestrator;
    private final Events events = new Events();
    private final ServerMetrics metrics;
    private final List<Route> routes = new ArrayList<>();

    /**
     * @param tokens      empty only with {@code insecureNoAuth}
     * @param insecureNoAuth every request is treated as admin (loopback binding is the caller's job)
     */
    public ApiServer(ControlStore store, Map<String, String> env, Tokens tokens, boolean insecureNoAuth) {
        this.orchestrator = new Orchestrator(store, env, events);
        this.metrics = new ServerMetrics(store);
        MigrationsApi api = new MigrationsApi(store, orchestrator);
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.jsonMapper(new JavalinJackson(Json.MAPPER, false));
            cfg.http.defaultContentType = "application/json";
            cfg.useVirtualThreads = false;
        });
        app.beforeMatched(ctx -> {
            ctx.attribute("t0", System.nanoTime());
            authorize(ctx, tokens, insecureNoAuth);
        });
        app.after(ctx -> {
            Long t0 = ctx.attribute("t0");
            if (t0 != null) {
                metrics.request(ctx.method().name(), ctx.endpointHandlerPath(), ctx.statusCode(),
                        System.nanoTime() - t0);
            }
        });
        app.exception(TandemException.class, (e, ctx) -> error(ctx, e));
        app.exception(HttpResponseException.class, (e, ctx) -> {
            ErrorCode code = e.getStatus() == 404 ? ErrorCode.NOT_FOUND : ErrorCode.BAD_INPUT;
            error(ctx, e.getStatus(), code, e.getStatus() == 404 ? "no such resource: " + ctx.method() + " "
                    + ctx.path() + " (see " + BASE + "/openapi.json)" : e.getMessage(), null, null);
        });
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("internal error in {} {}", ctx.method(), ctx.endpointHandlerPath(), e);
            error(ctx, 500, ErrorCode.INTERNAL, "internal error (a bug in Tandem; the server log has the details)",
                    null, null);
        });
        app.error(404, ctx -> {
            if (ctx.result() == null) {
                error(ctx, 404, ErrorCode.NOT_FOUND, "no such resource: " + ctx.method() + " " + ctx.path() + " (see "
                        + BASE + "/openapi.json)", null, null);
            }
        });
        app.error(405, ctx -> error(ctx, 405, ErrorCode.BAD_INPUT, ctx.method() + " is not allowed on "
                + ctx.path(), null, null));

        String m = BASE + "/migrations";
        String one = m + "/{id}";
        route(HandlerType.GET, "/health", PUBLIC, "Liveness: answers while the server runs", ctx -> ok(ctx,
                Json.MAPPER.createObjectNode().put("alive", true)));
        route(HandlerType.GET, BASE + "/openapi.json", PUBLIC, "This API's OpenAPI 3 document",
                ctx -> ctx.json(OpenApi.document(routes, BASE)));
        route(HandlerType.POST, m, Tokens.Role.ADMIN, "Create a migration (seed 002's JSON or a full manifest)",
                api::create);
        route(HandlerType.GET, m, Tokens.Role.READ, "List migrations", api::list);
        route(HandlerType.GET, one, Tokens.Role.ADMIN, "Get a migration (seed 002: admin)", api::get);
        route(HandlerType.PATCH, one, Tokens.Role.ADMIN, "Change a migration (JSON merge patch of its manifest)",
                api::patch);
        for (HandlerType t : List.of(HandlerType.POST, HandlerType.PUT)) {
            route(t, one + "/api/{sub}", Tokens.Role.ADMIN, "Add an API to a migration",
                    ctx -> api.addResource(ctx, "apis"));
            route(t, one + "/interlay/{sub}", Tokens.Role.ADMIN, "Add an interlay to a migration",
                    ctx -> api.addResource(ctx, "interlays"));
        }
        route(HandlerType.POST, one + "/test", Tokens.Role.ADMIN, "Preflight both databases (as tandem plan)",
                api::test);
        route(HandlerType.POST, one + "/migrate", Tokens.Role.ADMIN, "Start: prepare, backfill, catch_up",
                api::migrate);
        route(HandlerType.POST, one + "/advance", Tokens.Role.ADMIN, "Move to the next phase if its gate holds",
                api::advance);
        route(HandlerType.POST, one + "/pause", Tokens.Role.ADMIN, "Pause a running migration", api::pause);
        route(HandlerType.POST, one + "/resume", Tokens.Role.ADMIN, "Resume a paused migration", api::resume);
        route(HandlerType.POST, one + "/stop", Tokens.Role.ADMIN,
                "Stop streaming after the current batch (?immediate=true: at once)", api::stop);
        route(HandlerType.POST, one + "/cutover", Tokens.Role.ADMIN, "Cutover: freeze writes through the routers, "
                + "sync, verify, sequences, reverse stream, flip; answers with the report (write pause)", api::cutover);
        route(HandlerType.POST, one + "/rollback", Tokens.Role.ADMIN, "After a cutover: freeze, let the reverse "
                + "stream catch up, flip back to the source; rolled_back", api::rollback);
        route(HandlerType.POST, one + "/cleanup", Tokens.Role.ADMIN, "After a cutover: drop the streams, archive the "
                + "audit, completed", api::cleanup);
        route(HandlerType.POST, one + "/abort", Tokens.Role.ADMIN,
                "Abandon before cutover: stop, drop the stream, rolled_back", api::abort);
        route(HandlerType.POST, one + "/verify", Tokens.Role.ADMIN,
                "Verify source and target (lag-aware; ?repair=true repairs)", api::verify);
        route(HandlerType.GET, one + "/status", Tokens.Role.READ, "State, phase, progress, lag, verification, alerts",
                api::status);
        route(HandlerType.GET, one + "/lag", Tokens.Role.READ, "Replication lag (seed 000's shape)", api::lag);
        route(HandlerType.GET, one + "/runs", Tokens.Role.READ, "Backfill and verify runs", api::runs);
        route(HandlerType.GET, one + "/runs/{run}/chunks", Tokens.Role.READ, "A run's chunks", api::chunks);
        route(HandlerType.GET, BASE + "/runs/{run}/chunks", Tokens.Role.READ, "A run's chunks, by run id alone",
                api::chunks);
        route(HandlerType.GET, one + "/routing", Tokens.Role.READ,
                "The routing state routers follow (?after_epoch=N: long poll for a newer epoch)", api::routing);
        route(HandlerType.POST, one + "/routing/ack", Tokens.Role.READ,
                "A router acknowledges the epoch it applies ({router_id, epoch})", api::routingAck);
        route(HandlerType.GET, one + "/drift", Tokens.Role.READ, "Rows found different by verification",
                api::drift);
        route(HandlerType.GET, one + "/audit", Tokens.Role.READ, "Every transition and operator action, with who",
                api::audit);
        route(HandlerType.GET, "/metrics", Tokens.Role.READ, "Prometheus metrics", ctx -> {
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8");
            ctx.result(metrics.scrape());
        });
        routes.add(new Route(HandlerType.GET, BASE + "/events", Tokens.Role.READ,
                "Server-sent events: state changes, progress, log lines, verification results", null));
        app.sse(BASE + "/events", events::join, Tokens.Role.READ);
    }

    private void route(HandlerType method, String path, RouteRole role, String summary, Handler handler) {
        routes.add(new Route(method, path, role, summary, handler));
        app.addHttpHandler(method, path, handler, role);
    }

    /** Binds and starts serving, then resumes the migrations the store says were running. */
    public ApiServer start(String host, int port) {
        app.start(host, port);
        orchestrator.resumeAll();
        return this;
    }

    public int port() {
        return app.port();
    }

    /** Pauses the migrations this server runs (the next start resumes them), then stops serving. */
    @Override
    public void close() {
        orchestrator.close();
        events.close();
        app.stop();
        metrics.close();
    }

    private static void authorize(Context ctx, Tokens tokens, boolean insecureNoAuth) {
        Set<RouteRole> roles = ctx.routeRoles();
        if (roles.contains(PUBLIC) || roles.isEmpty()) {
            return;
        }
        if (insecureNoAuth) {
            ctx.attribute("actor", "api (no auth)");
            return;
        }
        String header = ctx.header("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim() : null;
        Optional<Tokens.Role> role = tokens.roleOf(token);
        if (role.isEmpty()) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(401, ErrorCode.BAD_INPUT, token == null
                    ? "no bearer token; send Authorization: Bearer <token>" : "unknown token");
        }
        Tokens.Role needed = roles.contains(Tokens.Role.ADMIN) ? Tokens.Role.ADMIN : Tokens.Role.READ;
        if (!role.get().allows(needed)) {
            throw new ApiError(403, ErrorCode.BAD_INPUT, ctx.method() + " " + ctx.endpointHandlerPath() + " needs an "
                    + "admin token; this one has role read");
        }
        ctx.attribute("actor", "api:" + role.get().wire() + ":" + Tokens.fingerprint(token));
    }

    /** An error whose HTTP status is not its code's (401, 403). */
    static final class ApiError extends TandemException {
        final int status;

        ApiError(int status, ErrorCode code, String message) {
            super(code, message);
            this.status = status;
        }
    }

    static void ok(Context ctx, JsonNode data) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("status", "success");
        root.set("data", data);
        ctx.json(root);
    }

    private static void error(Context ctx, TandemException e) {
        int status = e instanceof ApiError a ? a.status : e.code().httpStatus();
        ArrayNode problems = Json.MAPPER.createArrayNode();
        if (e instanceof ManifestException me) {
            for (Problem p : me.details()) {
                ObjectNode n = problems.addObject();
                n.put("path", p.path());
                n.put("value", p.value());
                n.put("rule", p.rule());
                n.put("fix", p.fix());
                n.put("message", p.message());
            }
        } else {
            e.problems().forEach(p -> problems.addObject().put("message", p));
        }
        ObjectNode extra = null;
        if (e instanceof PhaseGates.GateClosed g) {
            extra = Json.MAPPER.createObjectNode();
            extra.put("gate", g.gate());
            extra.put("expected", g.expected());
            extra.put("actual", g.actual());
        }
        if (status >= 500) {
            LOG.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage());
        }
        error(ctx, status, e.code(), e.getMessage(), problems, extra);
    }

    private static void error(Context ctx, int status, ErrorCode code, String message, ArrayNode problems,
                              ObjectNode extra) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("status", "error");
        ObjectNode err = root.putObject("error");
        err.put("code", code.name().toLowerCase(Locale.ROOT));
        err.put("message", message);
        if (extra != null) {
            err.setAll(extra);
        }
        err.set("problems", problems == null ? Json.MAPPER.createArrayNode() : problems);
        ctx.status(status);
        ctx.json(root);
    }
}
