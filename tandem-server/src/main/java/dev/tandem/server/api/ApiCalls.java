package dev.tandem.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.JdbcUrls;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Routing;
import dev.tandem.server.wire.Json;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.security.RouteRole;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What every handler of {@code /api/v1/migrations} needs: the migration a path names, the request body as a JSON
 * object, the stored manifest, who asks, and the migration's document as answers show it. One place for each, so the
 * API classes ({@link MigrationsApi}, {@link LifecycleApi}, {@link RoutingApi}, {@link ReportsApi}) agree.
 */
final class ApiCalls {
    private static final ObjectMapper COMPACT = new ObjectMapper();

    /** Where an API class adds its routes (the server keeps them for the OpenAPI document and the auth check). */
    @FunctionalInterface
    interface Routes {
        /** A route that tokens of any of {@code roles} (and admin tokens) may call. */
        void add(HandlerType method, String path, Set<? extends RouteRole> roles, String summary, Handler handler);

        default void add(HandlerType method, String path, RouteRole role, String summary, Handler handler) {
            add(method, path, Set.of(role), summary, handler);
        }
    }

    final ControlStore store;
    final Orchestrator orchestrator;

    ApiCalls(ControlStore store, Orchestrator orchestrator) {
        this.store = store;
        this.orchestrator = orchestrator;
    }

    /** The migration of the path's {@code {id}}, or 404. */
    MigrationRecord record(Context ctx) {
        return store.migrations().get(ctx.pathParam("id"));
    }

    /** The manifest of a migration that has source and target; a pending one is a 409 saying what to do. */
    Manifest runnable(MigrationRecord r) {
        if (r.status().state() == MigrationState.PENDING) {
            throw TandemException.badState("migration " + r.id() + " is pending: expected state ready (source and "
                    + "target configured), actual pending; PATCH it with source and target first");
        }
        return orchestrator.manifest(r, ManifestReader.Purpose.RUN).manifest();
    }

    /** seed 002's migration plus its endpoints (URLs without credentials; never a password) and runtime facts. */
    ObjectNode migration(MigrationRecord r) {
        ObjectNode n = Json.migration(r);
        ObjectNode doc = stored(r);
        for (String side : List.of("source", "target")) {
            JsonNode e = doc.get(side);
            if (e != null && e.isObject()) {
                ObjectNode shown = n.putObject(side);
                shown.put("url", e.hasNonNull("url") ? JdbcUrls.redact(e.get("url").asText()) : null);
                shown.put("user", e.path("user").asText(null));
            }
        }
        n.put("running_here", orchestrator.isRunningHere(r.id()));
        orchestrator.lastError(r.id()).ifPresent(e -> n.put("last_error", e));
        return n;
    }

    /** The migration's document, as it now is in the store. */
    ObjectNode migration(String id) {
        return migration(store.migrations().get(id));
    }

    /**
     * The one rule of whether traffic has moved to the target: the routing control says so (set by the cutover,
     * cleared by a rollback); a migration whose routing never changed has moved once it reached cleanup or completed.
     */
    static boolean cutOver(MigrationRecord r, Optional<Routing.Control> control) {
        return control.map(Routing.Control::cutOver).orElse(r.status().state() == MigrationState.COMPLETED
                || r.status().phase() == Phase.CLEANUP);
    }

    /** The manifest as stored: a JSON object. */
    static ObjectNode stored(MigrationRecord r) {
        JsonNode doc = readJson(r.manifest());
        if (!(doc instanceof ObjectNode o)) {
            throw new IllegalStateException("the stored manifest of " + r.id() + " is not a JSON object");
        }
        return o;
    }

    static JsonNode readJson(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The request body as a JSON object, or 400 saying where it stopped being JSON. */
    static JsonNode object(Context ctx) {
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            // a nesting-depth or size limit has no location (a 100k-deep body once made this a NullPointerException)
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw TandemException.badInput("request body: not JSON (" + e.getOriginalMessage() + at + "); send "
                    + "Content-Type: application/json with a JSON object");
        }
        if (body == null || !body.isObject()) {
            throw TandemException.badInput("request body: expected a JSON object, got " + (body == null ? "nothing"
                    : body.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        return body;
    }

    /** The request body as a JSON object; an empty body is an empty object. */
    static JsonNode objectOrEmpty(Context ctx) {
        return ctx.body().isBlank() ? Json.MAPPER.createObjectNode() : object(ctx);
    }

    static String compact(JsonNode doc) {
        try {
            return COMPACT.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What each query or path parameter takes, for the 400 a value it cannot take gets. */
    private static final Map<String, String> PARAMETERS = Map.of(
            "after_epoch", "is not an epoch; give the last epoch this router applied (a whole number)",
            "wait_ms", "is not a number of milliseconds",
            "immediate", "is not true or false",
            "repair", "is not true or false",
            "run", "is not a run id (a number; list them with GET /api/v1/migrations/ID/runs)");

    /** The rule a parameter's value broke, for people ({@code message} is Javalin's, e.g. a failed conversion). */
    static String parameterRule(String parameter, String message) {
        return PARAMETERS.getOrDefault(parameter, "is not valid (" + message + ")");
    }

    /** Who asks: the token's role and fingerprint (never the token), as the audit records it. */
    static String actor(Context ctx) {
        String a = ctx.attribute("actor");
        return a == null ? "api" : a;
    }
}
