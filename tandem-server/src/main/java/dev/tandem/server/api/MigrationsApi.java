package dev.tandem.server.api;

import static dev.tandem.server.api.ApiCalls.actor;
import static dev.tandem.server.api.ApiCalls.compact;
import static dev.tandem.server.api.ApiCalls.object;
import static dev.tandem.server.api.ApiCalls.stored;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.server.wire.Json;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code /api/v1/migrations}: create, list, get, change (PATCH), add APIs and interlays, and preflight
 * ({@code /test}). Request bodies are manifests (DESIGN.md) in JSON, which includes seed 002's create body as
 * written; a PATCH replaces each top-level key it gives (a {@code null} removes it), so a new {@code strategy}
 * replaces the old one whole, as seed 002's canary steps expect.
 */
final class MigrationsApi {
    /** What may change while a migration runs: how traffic is routed and watched, never what is moved. */
    static final Set<String> CHANGEABLE_WHILE_RUNNING = Set.of("description", "strategy", "alerting",
            "abort_thresholds", "validation", "apis", "interlays");

    private final ControlStore store;
    private final Orchestrator orchestrator;
    private final ApiCalls calls;

    MigrationsApi(ApiCalls calls) {
        this.calls = calls;
        this.store = calls.store;
        this.orchestrator = calls.orchestrator;
    }

    void register(ApiCalls.Routes r, String base) {
        String m = base + "/migrations";
        String one = m + "/{id}";
        r.add(HandlerType.POST, m, Tokens.Role.ADMIN, "Create a migration (seed 002's JSON or a full manifest)",
                this::create);
        r.add(HandlerType.GET, m, Tokens.Role.READ, "List migrations", this::list);
        r.add(HandlerType.GET, one, Tokens.Role.ADMIN, "Get a migration (seed 002: admin)", this::get);
        r.add(HandlerType.PATCH, one, Tokens.Role.ADMIN, "Change a migration (JSON merge patch of its manifest)",
                this::patch);
        for (HandlerType t : List.of(HandlerType.POST, HandlerType.PUT)) {
            r.add(t, one + "/api/{sub}", Tokens.Role.ADMIN, "Add an API to a migration",
                    ctx -> addResource(ctx, "apis"));
            r.add(t, one + "/interlay/{sub}", Tokens.Role.ADMIN, "Add an interlay to a migration",
                    ctx -> addResource(ctx, "interlays"));
        }
        r.add(HandlerType.POST, one + "/test", Tokens.Role.ADMIN, "Preflight both databases (as tandem plan)",
                this::test);
    }

    void create(Context ctx) {
        JsonNode body = object(ctx);
        ManifestDocument doc = reader().document(body, "request body", ManifestReader.Purpose.DRAFT);
        Manifest m = doc.manifest();
        if (store.migrations().find(m.id()).isPresent()) {
            throw TandemException.badState("migration " + m.id() + " already exists; expected a new id (change it "
                    + "with PATCH /api/v1/migrations/" + m.id() + ")");
        }
        store.migrations().create(m.id(), m.description(), compact(body), actor(ctx));
        if (m.isRunnable()) {
            store.migrations().transition(m.id(), LifecycleEvent.CONFIGURE, null, actor(ctx), "created with source "
                    + "and target");
        }
        orchestrator.publishState(m.id());
        ctx.status(201);
        Envelope.ok(ctx, calls.migration(m.id()));
    }

    void list(Context ctx) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (MigrationRecord r : store.migrations().list()) {
            list.add(calls.migration(r));
        }
        Envelope.ok(ctx, list);
    }

    void get(Context ctx) {
        Envelope.ok(ctx, calls.migration(calls.record(ctx)));
    }

    void patch(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        JsonNode patch = object(ctx);
        ObjectNode doc = stored(r);
        List<String> changed = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("id") && !e.getValue().asText().equals(r.id())) {
                throw TandemException.badInput("id: '" + e.getValue().asText() + "' differs from the migration's id "
                        + r.id() + "; an id cannot change (create another migration)");
            }
            if (e.getValue().isNull()) {
                doc.remove(e.getKey());
            } else {
                doc.set(e.getKey(), e.getValue());
            }
            changed.add(e.getKey());
        }
        changed.remove("id");
        MigrationState state = r.status().state();
        boolean moving = state != MigrationState.PENDING && state != MigrationState.READY;
        List<String> frozen = changed.stream().filter(k -> !CHANGEABLE_WHILE_RUNNING.contains(k)).toList();
        if (moving && !frozen.isEmpty()) {
            throw TandemException.badState("cannot change " + String.join(", ", frozen) + " of migration " + r.id()
                    + ": expected state pending or ready for that, actual " + state.wire() + "; while a migration "
                    + "has started only " + String.join(", ", CHANGEABLE_WHILE_RUNNING.stream().sorted().toList())
                    + " may change");
        }
        ManifestDocument checked = reader().document(doc, "the patched manifest", ManifestReader.Purpose.DRAFT);
        Manifest patched = checked.manifest();
        if (state == MigrationState.READY && !checked.manifest().isRunnable()) {
            throw TandemException.badInput("source and target: a ready migration keeps both; give a new value "
                    + "instead of removing one");
        }
        store.migrations().updateManifest(r.id(), r.version(), checked.manifest().description(), compact(doc),
                actor(ctx), "PATCH " + String.join(", ", changed));
        if (state == MigrationState.PENDING && checked.manifest().isRunnable()) {
            store.migrations().transition(r.id(), LifecycleEvent.CONFIGURE, null, actor(ctx), "source and target "
                    + "configured");
        }
        orchestrator.publishState(r.id());
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    /** seed 002's {@code /api/{api_id}} and {@code /interlay/{interlay_id}}: added to (or replaced in) the list. */
    void addResource(Context ctx, String list) {
        MigrationRecord r = calls.record(ctx);
        String sub = ctx.pathParam("sub");
        JsonNode body = ApiCalls.objectOrEmpty(ctx);
        if (body.has("id") && !body.get("id").asText().equals(sub)) {
            throw TandemException.badInput("id: '" + body.get("id").asText() + "' differs from the path's " + sub
                    + "; leave it out or make them equal");
        }
        ObjectNode item = ((ObjectNode) body).deepCopy();
        item.put("id", sub);
        ObjectNode doc = stored(r);
        ArrayNode items = doc.has(list) && doc.get(list).isArray() ? (ArrayNode) doc.get(list) : doc.putArray(list);
        boolean replaced = false;
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).path("id").asText().equals(sub)) {
                items.set(i, item);
                replaced = true;
            }
        }
        if (!replaced) {
            items.add(item);
        }
        reader().document(doc, "the migration with " + list + " " + sub, ManifestReader.Purpose.DRAFT);
        store.migrations().updateManifest(r.id(), r.version(), r.description(), compact(doc), actor(ctx),
                (replaced ? "replaced " : "added ") + list.substring(0, list.length() - 1) + " " + sub);
        ctx.status(replaced ? 200 : 201);
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    /** Preflight, as {@code tandem plan}; a migration not fully configured gets the list of what it lacks. */
    void test(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        if (r.status().state() == MigrationState.PENDING) {
            ObjectNode n = Json.MAPPER.createObjectNode();
            n.put("migration_id", r.id());
            n.put("ok", false);
            ArrayNode problems = n.putArray("problems");
            try {
                orchestrator.manifest(r, ManifestReader.Purpose.RUN);
            } catch (ManifestException e) {
                e.details().forEach(p -> problems.add(p.message()));
            }
            Envelope.ok(ctx, n);
            return;
        }
        Manifest m = calls.runnable(r);
        boolean resuming = r.status().state() != MigrationState.READY;
        Envelope.ok(ctx, Json.plan(new Planner(ConnectorRegistry.load()).plan(m, resuming)));
    }

    private ManifestReader reader() {
        return orchestrator.reader();
    }
}
