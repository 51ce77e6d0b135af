package dev.tandem.server.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ControlStore;
import dev.tandem.server.wire.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.javalin.security.RouteRole;
import io.javalin.validation.ValidationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tandem server}: the REST control plane (DESIGN.md "Control plane"; seed 002's shapes and access table,
 * seed 001's /advance, /abort, /status, seed 000's /lag and /stop). Every answer is
 * {@code {"status":"success","data":...}} or {@code {"status":"error","error":{code, message, problems}}}; bad
 * input is 400 with every problem (path, value, rule, fix), an unknown id 404, an illegal transition 409 with the
 * expected and actual states, a missing or unknown token 401, a token whose role may not call the operation 403
 * (admin calls everything, read every GET, router only what a router follows). A 500 never
 * carries a stack trace (it is logged). Tokens are never logged.
 */
public final class ApiServer implements AutoCloseable {
    static final String BASE = "/api/v1";
    /** Connections waiting to be accepted (the kernel caps it at net.core.somaxconn). */
    private static final int ACCEPT_QUEUE = 1024;
    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);
    /** Routes anyone may call: liveness and the API's own description. */
    private static final RouteRole PUBLIC = new RouteRole() {
        @Override
        public String toString() {
            return "public";
        }
    };

    private final Javalin app;
    private final Orchestrator orchestrator;
    private final Events events = new Events();
    private final ServerMetrics metrics;
    private final List<OpenApi.Route> routes = new ArrayList<>();
    private final LongPolls polls;
    private final Options options;

    /**
     * How the server listens and what one client may hold of it.
     *
     * @param maxRouters           live routers per migration (each is one a cutover waits for)
     * @param maxLongPollsPerToken routing long polls one token may hold at once
     * @param tls                  the HTTPS identity, or null for plain HTTP
     */
    public record Options(int maxRouters, int maxLongPollsPerToken, ServerTls tls) {
        public static final Options DEFAULT = new Options(256, 1024, null);
    }

    private volatile String bindHost;
    private volatile int bindPort;

    public ApiServer(ControlStore store, Map<String, String> env, Tokens tokens, boolean insecureNoAuth) {
        this(store, env, tokens, insecureNoAuth, Options.DEFAULT);
    }

    /**
     * @param tokens      empty only with {@code insecureNoAuth}
     * @param insecureNoAuth every request is treated as admin (loopback binding is the caller's job)
     */
    public ApiServer(ControlStore store, Map<String, String> env, Tokens tokens, boolean insecureNoAuth,
                     Options options) {
        this.options = options;
        this.polls = new LongPolls(store, options.maxLongPollsPerToken());
        this.orchestrator = new Orchestrator(store, env, events);
        this.metrics = new ServerMetrics(store, polls);
        this.app = Javalin.create(cfg -> {
            cfg.showJavalinBanner = false;
            cfg.jsonMapper(new JavalinJackson(Json.MAPPER, false));
            cfg.http.defaultContentType = "application/json";
            cfg.useVirtualThreads = false;
            // Tandem's own connector replaces Javalin's: HTTPS only when TLS is given, and a deep accept queue (a
            // fleet of routers reconnecting at once overflowed the default 50, and a dropped connection waited
            // out TCP's retransmissions for half a minute)
            cfg.jetty.addConnector((server, http) -> {
                ServerConnector c = options.tls() != null ? options.tls().connector(server, http)
                        : new ServerConnector(server, new HttpConnectionFactory(http));
                c.setHost(bindHost);
                c.setPort(bindPort);
                c.setAcceptQueueSize(ACCEPT_QUEUE);
                return c;
            });
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
        errors();
        routes(new ApiCalls(store, orchestrator));
    }

    /** Every failure as seed 002's error document: bad input 400 with its problems, never a stack trace. */
    private void errors() {
        app.exception(TandemException.class, (e, ctx) -> Envelope.error(ctx, e));
        app.exception(ValidationException.class, (e, ctx) -> {
            ArrayNode problems = Json.MAPPER.createArrayNode();
            e.getErrors().forEach((field, errs) -> errs.forEach(x -> problems.addObject().put("message",
                    field + ": '" + x.getValue() + "' " + ApiCalls.parameterRule(field, x.getMessage()))));
            Envelope.error(ctx, 400, ErrorCode.BAD_INPUT, problems.size() == 1
                    ? problems.get(0).path("message").asText() : problems.size() + " parameters are not valid",
                    problems, null);
        });
        app.exception(HttpResponseException.class, (e, ctx) -> {
            ErrorCode code = e.getStatus() == 404 ? ErrorCode.NOT_FOUND : ErrorCode.BAD_INPUT;
            Envelope.error(ctx, e.getStatus(), code, e.getStatus() == 404 ? "no such resource: " + ctx.method() + " "
                    + ctx.path() + " (see " + BASE + "/openapi.json)" : e.getMessage(), null, null);
        });
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("internal error in {} {}", ctx.method(), ctx.endpointHandlerPath(), e);
            Envelope.error(ctx, 500, ErrorCode.INTERNAL, "internal error (a bug in Tandem; the server log has the "
                    + "details)", null, null);
        });
        app.error(404, ctx -> {
            if (ctx.result() == null) {
                Envelope.error(ctx, 404, ErrorCode.NOT_FOUND, "no such resource: " + ctx.method() + " " + ctx.path()
                        + " (see " + BASE + "/openapi.json)", null, null);
            }
        });
        app.error(405, ctx -> Envelope.error(ctx, 405, ErrorCode.BAD_INPUT, ctx.method() + " is not allowed on "
                + ctx.path(), null, null));
    }

    /** The route table: each API class adds its own; the server's own routes (health, OpenAPI, metrics, events). */
    private void routes(ApiCalls calls) {
        route(HandlerType.GET, "/health", PUBLIC, "Liveness: answers while the server runs", ctx -> Envelope.ok(ctx,
                Json.MAPPER.createObjectNode().put("alive", true)));
        route(HandlerType.GET, BASE + "/openapi.json", PUBLIC, "This API's OpenAPI 3 document",
                ctx -> ctx.json(OpenApi.document(routes, BASE)));
        new MigrationsApi(calls).register(this::route, BASE);
        new LifecycleApi(calls).register(this::route, BASE);
        new ReportsApi(calls).register(this::route, BASE);
        new RoutingApi(calls, polls, options.maxRouters()).register(this::route, BASE);
        route(HandlerType.GET, "/metrics", Tokens.Role.READ, "Prometheus metrics", ctx -> {
            ctx.contentType("text/plain; version=0.0.4; charset=utf-8");
            ctx.result(metrics.scrape());
        });
        routes.add(new OpenApi.Route(HandlerType.GET, BASE + "/events", Set.of(Tokens.Role.READ),
                "Server-sent events: state changes, progress, log lines, verification results", null));
        app.sse(BASE + "/events", events::join, Tokens.Role.READ);
    }

    private void route(HandlerType method, String path, RouteRole role, String summary, Handler handler) {
        route(method, path, Set.of(role), summary, handler);
    }

    private void route(HandlerType method, String path, Set<? extends RouteRole> roles, String summary,
                       Handler handler) {
        routes.add(new OpenApi.Route(method, path, roles, summary, handler));
        app.addHttpHandler(method, path, handler, roles.toArray(RouteRole[]::new));
    }

    /** Binds and starts serving, then resumes the migrations the store says were running. */
    public ApiServer start(String host, int port) {
        bindHost = host;
        bindPort = port;
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
        polls.close();
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
            ctx.attribute("role", Tokens.Role.ADMIN);
            ctx.attribute("actor", "api (no auth)");
            return;
        }
        String header = ctx.header("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim() : null;
        Optional<Tokens.Role> role = tokens.roleOf(token);
        if (role.isEmpty()) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new Envelope.ApiError(401, ErrorCode.BAD_INPUT, token == null
                    ? "no bearer token; send Authorization: Bearer <token>" : "unknown token");
        }
        if (!role.get().allows(roles)) {
            throw new Envelope.ApiError(403, ErrorCode.BAD_INPUT, ctx.method() + " " + ctx.endpointHandlerPath()
                    + " needs " + roles.stream().filter(r -> r != Tokens.Role.ADMIN).map(r -> "a " + r.toString()
                    .toLowerCase(java.util.Locale.ROOT) + " token or ").sorted().collect(java.util.stream.Collectors
                    .joining()) + "an admin token; this one has role " + role.get().wire());
        }
        ctx.attribute("role", role.get());
        ctx.attribute("actor", "api:" + role.get().wire() + ":" + Tokens.fingerprint(token));
    }
}
