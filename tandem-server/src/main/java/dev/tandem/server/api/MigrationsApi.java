package dev.tandem.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.cdc.LagReport;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.JdbcUrls;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.PhaseGates;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.AlertLog;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import dev.tandem.core.store.Routing;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.store.StreamPosition;
import dev.tandem.server.cli.Json;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The handlers of {@code /api/v1/migrations}. Request bodies are manifests (DESIGN.md) in JSON, which includes seed
 * 002's create body as written; a PATCH replaces each top-level key it gives (a {@code null} removes it), so a new
 * {@code strategy} replaces the old one whole, as seed 002's canary steps expect.
 */
final class MigrationsApi {
    /** What may change while a migration runs: how traffic is routed and watched, never what is moved. */
    static final Set<String> CHANGEABLE_WHILE_RUNNING = Set.of("description", "strategy", "alerting",
            "abort_thresholds", "validation", "apis", "interlays");
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private final ControlStore store;
    private final Orchestrator orchestrator;
    MigrationsApi(ControlStore store, Orchestrator orchestrator) {
        this.store = store;
        this.orchestrator = orchestrator;
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
        ApiServer.ok(ctx, migration(store.migrations().get(m.id())));
    }

    void list(Context ctx) {
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (MigrationRecord r : store.migrations().list()) {
            list.add(migration(r));
        }
        ApiServer.ok(ctx, list);
    }

    void get(Context ctx) {
        ApiServer.ok(ctx, migration(record(ctx)));
    }

    void patch(Context ctx) {
        MigrationRecord r = record(ctx);
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
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    /** seed 002's {@code /api/{api_id}} and {@code /interlay/{interlay_id}}: added to (or replaced in) the list. */
    void addResource(Context ctx, String list) {
        MigrationRecord r = record(ctx);
        String sub = ctx.pathParam("sub");
        JsonNode body = ctx.body().isBlank() ? Json.MAPPER.createObjectNode() : object(ctx);
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
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    /** Preflight, as {@code tandem plan}; a migration not fully configured gets the list of what it lacks. */
    void test(Context ctx) {
        MigrationRecord r = record(ctx);
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
            ApiServer.ok(ctx, n);
            return;
        }
        Manifest m = runnable(r);
        boolean resuming = r.status().state() != MigrationState.READY;
        ApiServer.ok(ctx, Json.plan(new Planner(ConnectorRegistry.load()).plan(m, resuming)));
    }

    void migrate(Context ctx) {
        MigrationRecord r = record(ctx);
        orchestrator.migrate(r.id(), actor(ctx));
        ctx.status(202);
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    void pause(Context ctx) throws InterruptedException {
        MigrationRecord r = record(ctx);
        orchestrator.pause(r.id(), actor(ctx), false);
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    void resume(Context ctx) {
        MigrationRecord r = record(ctx);
        orchestrator.resume(r.id(), actor(ctx));
        ctx.status(202);
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    /** seed 000's stop: finish the current batch (or, with {@code ?immediate=true}, roll it back) and pause. */
    void stop(Context ctx) throws InterruptedException {
        MigrationRecord r = record(ctx);
        if (r.status().state() != MigrationState.RUNNING) {
            throw TandemException.badState("cannot stop migration " + r.id() + ": expected state running, actual "
                    + r.status().state().wire());
        }
        orchestrator.pause(r.id(), actor(ctx), "true".equalsIgnoreCase(ctx.queryParam("immediate")));
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    void abort(Context ctx) throws InterruptedException {
        MigrationRecord r = record(ctx);
        orchestrator.abort(r.id(), actor(ctx));
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    void verify(Context ctx) {
        MigrationRecord r = record(ctx);
        runnable(r);
        orchestrator.verify(r.id(), "true".equalsIgnoreCase(ctx.queryParam("repair")));
        ctx.status(202);
        ApiServer.ok(ctx, Json.MAPPER.createObjectNode().put("verifying", true).put("migration_id", r.id()));
    }

    /** seed 001's advance: to the next phase (or {@code {"phase": ...}}) when the gate holds ({@link PhaseGates}). */
    void advance(Context ctx) {
        MigrationRecord r = record(ctx);
        JsonNode body = ctx.body().isBlank() ? Json.MAPPER.createObjectNode() : object(ctx);
        Phase to = null;
        if (body.hasNonNull("phase")) {
            try {
                to = Phase.fromWire(body.get("phase").asText());
            } catch (IllegalArgumentException e) {
                throw TandemException.badInput("phase: '" + body.get("phase").asText() + "' is not a phase; use one "
                        + "of prepare, backfill, catch_up, shadow, cutover, cleanup");
            }
        }
        if (r.status().state() != MigrationState.RUNNING) {
            throw TandemException.badState("cannot advance migration " + r.id() + ": expected state running, actual "
                    + r.status().state().wire());
        }
        Phase next = to != null ? to : Phase.ORDER.get(Math.min(Phase.ORDER.size() - 1,
                Phase.ORDER.indexOf(r.status().phase()) + 1));
        if (next == Phase.CUTOVER && r.status().phase().isBefore(Phase.CUTOVER)) {
            procedure(ctx, r, Requests.Kind.CUTOVER);
            return;
        }
        if (next == Phase.CLEANUP && r.status().phase() == Phase.CUTOVER) {
            procedure(ctx, r, Requests.Kind.CLEANUP);
            return;
        }
        new PhaseGates(store).advance(r, runnable(r), to, actor(ctx));
        orchestrator.publishState(r.id());
        ApiServer.ok(ctx, migration(store.migrations().get(r.id())));
    }

    void cutover(Context ctx) throws InterruptedException {
        procedure(ctx, record(ctx), Requests.Kind.CUTOVER);
    }

    void rollback(Context ctx) throws InterruptedException {
        procedure(ctx, record(ctx), Requests.Kind.ROLLBACK);
    }

    void cleanup(Context ctx) throws InterruptedException {
        procedure(ctx, record(ctx), Requests.Kind.CLEANUP);
    }

    /**
     * Runs a cutover, rollback or cleanup through the process streaming the migration and answers with its report
     * (steps with their times, the write pause); a failed one is a 409 naming the step (routing is back where it was).
     */
    private void procedure(Context ctx, MigrationRecord r, Requests.Kind kind) {
        JsonNode report;
        try {
            report = new MigrationControl(store, orchestrator.env()).procedure(r.id(), kind, actor(ctx),
                    Duration.ofSeconds(120));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw TandemException.badState("interrupted while waiting for the " + kind.name().toLowerCase(
                    java.util.Locale.ROOT));
        }
        orchestrator.publishState(r.id());
        if (!"completed".equals(report.path("outcome").asText())) {
            throw TandemException.badState("the " + report.path("procedure").asText() + " of migration " + r.id()
                    + " failed at step " + report.path("failed_step").asText() + ": " + report.path("error").asText()
                    + (kind == Requests.Kind.CUTOVER ? "; routing is back on the source" : "; routing stays on the "
                    + "target"));
        }
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.set("migration", migration(store.migrations().get(r.id())));
        n.set("report", report);
        ApiServer.ok(ctx, n);
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
        MigrationRecord r = record(ctx);
        String after = ctx.queryParam("after_epoch");
        if (after != null) {
            long n;
            try {
                n = Long.parseLong(after);
            } catch (NumberFormatException e) {
                throw TandemException.badInput("after_epoch: '" + after + "' is not a number (the last epoch this "
                        + "router applied)");
            }
            long waitMs = ROUTING_POLL_MILLIS;
            String w = ctx.queryParam("wait_ms");
            if (w != null) {
                try {
                    waitMs = Math.max(0, Math.min(ROUTING_POLL_MILLIS, Long.parseLong(w)));
                } catch (NumberFormatException e) {
                    throw TandemException.badInput("wait_ms: '" + w + "' is not a number of milliseconds");
                }
            }
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
        n.put("cut_over", control.map(Routing.Control::cutOver).orElse(r.status().state() == MigrationState.COMPLETED
                || r.status().phase() == Phase.CLEANUP));
        n.put("frozen", control.map(Routing.Control::frozen).orElse(false));
        n.put("target_ready", r.status().state() == MigrationState.RUNNING
                && !r.status().phase().isBefore(Phase.CATCH_UP));
        n.put("freeze_timeout_ms", control.map(Routing.Control::freezeTimeoutMs)
                .orElse(Routing.DEFAULT_FREEZE_TIMEOUT_MS));
        JsonNode strategy = stored(r).get("strategy");
        n.set("strategy", strategy != null ? strategy : Json.MAPPER.createObjectNode().put("type", "big_bang"));
        ApiServer.ok(ctx, n);
    }

    /** A router says which epoch it applies (it acknowledges every epoch it receives). */
    void routingAck(Context ctx) {
        MigrationRecord r = record(ctx);
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
        ApiServer.ok(ctx, Json.MAPPER.createObjectNode().put("router_id", router).put("epoch",
                body.path("epoch").asLong()));
    }

    /** State, phase, backfill progress, lag, the last verification, firing alerts. */
    void status(Context ctx) {
        MigrationRecord r = record(ctx);
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("id", r.id());
        n.put("status", r.status().state().wire());
        n.put("phase", r.status().phase().wire());
        n.put("running_here", orchestrator.isRunningHere(r.id()));
        n.put("verifying", orchestrator.isVerifying(r.id()));
        n.put("worker", store.leases().liveHolder(r.id()).orElse(null));
        n.put("last_error", orchestrator.lastError(r.id()).orElse(null));
        List<RunRecord> runs = store.runs().list(r.id());
        runs.stream().filter(x -> x.kind() == RunRecord.Kind.BACKFILL).findFirst().ifPresent(run -> {
            ObjectNode b = n.putObject("backfill");
            b.put("run_id", run.runId());
            b.put("run_status", run.status().name());
            ObjectNode c = b.putObject("chunks");
            store.runs().chunkCounts(run.runId()).forEach((s, count) -> c.put(s.name(), count));
            b.put("rows", store.runs().chunks(run.runId(), ChunkStatus.PASS).stream()
                    .mapToLong(x -> x.rowsDone()).sum());
        });
        // once cut over, the stream that matters is the reverse one (target -> source, kept for a rollback)
        StreamDirection direction = r.status().phase() == Phase.CUTOVER ? StreamDirection.REVERSE
                : StreamDirection.FORWARD;
        List<LagSample> samples = store.lag().recent(r.id(), direction, 120);
        if (!samples.isEmpty()) {
            LagReport lag = LagReport.of(samples, store.now());
            ObjectNode l = n.putObject("lag");
            l.put("stream", direction.wire());
            l.put("seconds", lag.seconds());
            l.put("records", lag.records());
            l.put("bytes", lag.bytes());
            l.put("trend", lag.trend());
            l.put("stale", lag.stale());
        }
        for (RunRecord run : runs) {
            if (run.kind() != RunRecord.Kind.VERIFY) {
                continue;
            }
            List<DriftLog.DriftRow> rows = store.drift().list(run.runId());
            long unrepaired = rows.stream().filter(d -> d.repairedAt() == null).count();
            ObjectNode v = n.putObject("verification");
            v.put("run_id", run.runId());
            v.put("run_status", run.status().name());
            v.put("differing_rows", rows.size());
            v.put("unrepaired_rows", unrepaired);
            break; // the newest
        }
        ArrayNode failed = n.putArray("failed_tables");
        store.audit().list(r.id()).stream()
                .filter(e -> MigrationRunner.TABLE_FAILED.equals(e.action()) && e.detail() != null)
                .forEach(e -> failed.addObject().put("table", e.detail().substring(0, Math.max(0,
                        e.detail().indexOf(": ")))).put("error", e.detail().substring(e.detail().indexOf(": ") + 2))
                        .put("at", e.occurredAt().toString()));
        n.put("failure_handling", orchestrator.failureHandling(r));
        ArrayNode routers = n.putArray("routers");
        Instant liveSince = store.now().minus(Routing.LIVE_WINDOW);
        for (Routing.Router x : store.routing().routers(r.id())) {
            ObjectNode o = routers.addObject().put("router_id", x.routerId()).put("epoch", x.epoch())
                    .put("acknowledged_at", x.acknowledgedAt().toString()).put("seen_at", x.seenAt().toString())
                    .put("live", x.seenAt().isAfter(liveSince));
            if (x.report() != null) {
                o.set("metrics", x.report());
            }
        }
        Optional<Routing.Control> control = store.routing().find(r.id());
        ObjectNode routing = n.putObject("routing");
        routing.put("epoch", r.version());
        routing.put("cut_over", control.map(Routing.Control::cutOver).orElse(false));
        routing.put("frozen", control.map(Routing.Control::frozen).orElse(false));
        if (control.isPresent() && control.get().last() != null) {
            routing.set("last_procedure", control.get().last());
        }
        ArrayNode alerts = n.putArray("alerts");
        if (!r.status().state().isTerminal()) {
            for (AlertLog.Alert a : store.alerts().list(r.id(), true)) {
                ObjectNode x = alerts.addObject();
                x.put("name", a.name());
                x.put("severity", a.severity());
                x.put("message", a.message());
                x.put("condition", a.condition());
                x.put("observed", a.observed());
                x.put("fired_at", a.firedAt().toString());
            }
        }
        ApiServer.ok(ctx, n);
    }

    void lag(Context ctx) {
        MigrationRecord r = record(ctx);
        StreamPosition pos = store.positions().find(r.id(), StreamDirection.FORWARD).orElseThrow(() ->
                TandemException.badState("migration " + r.id() + " has no change stream (cdc.method none, or it has "
                        + "not started); expected a streaming migration"));
        List<LagSample> samples = store.lag().recent(r.id(), StreamDirection.FORWARD, 120);
        if (samples.isEmpty()) {
            throw TandemException.badState("migration " + r.id() + " has not recorded its lag yet; it does once its "
                    + "stream runs");
        }
        ApiServer.ok(ctx, Json.lag(LagReport.of(samples, store.now()), pos));
    }

    void runs(Context ctx) {
        MigrationRecord r = record(ctx);
        ApiServer.ok(ctx, Json.runs(store, r.id(), store.runs().list(r.id())));
    }

    /** A run's chunks: under its migration's path, or by run id alone ({@code /api/v1/runs/{run}/chunks}). */
    void chunks(Context ctx) {
        String id = ctx.pathParamMap().get("id");
        if (id != null) {
            store.migrations().get(id);
        }
        long runId;
        try {
            runId = Long.parseLong(ctx.pathParam("run"));
        } catch (NumberFormatException e) {
            throw TandemException.badInput("run: '" + ctx.pathParam("run") + "' is not a run id (a number; list them "
                    + "with GET /api/v1/migrations/ID/runs)");
        }
        RunRecord run = store.runs().find(runId).filter(x -> id == null || id.equals(x.migrationId()))
                .orElseThrow(() -> TandemException.notFound("run " + runId + (id == null ? "" : " of migration " + id)
                        + " not found"));
        ChunkStatus only = null;
        String status = ctx.queryParam("status");
        if (status != null) {
            try {
                only = ChunkStatus.valueOf(status.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw TandemException.badInput("status: '" + status + "' is not a chunk status; use one of "
                        + java.util.Arrays.toString(ChunkStatus.values()));
            }
        }
        ApiServer.ok(ctx, Json.chunks(run.runId(), store.runs().chunks(run.runId(), only)));
    }

    /** Drift stored by the migration's verify runs, newest run first. */
    void drift(Context ctx) {
        MigrationRecord r = record(ctx);
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (RunRecord run : store.runs().list(r.id())) {
            if (run.kind() != RunRecord.Kind.VERIFY) {
                continue;
            }
            for (DriftLog.DriftRow d : store.drift().list(run.runId())) {
                ObjectNode n = out.addObject();
                n.put("run_id", d.runId());
                n.put("table", d.table());
                n.put("chunk_no", d.chunkNo());
                n.set("key", readJson(d.keyValues()));
                n.put("kind", d.kind());
                n.set("columns", d.columns() == null ? null : readJson(d.columns()));
                n.put("detected_at", String.valueOf(d.detectedAt()));
                n.put("repaired_at", d.repairedAt() == null ? null : d.repairedAt().toString());
            }
        }
        ApiServer.ok(ctx, out);
    }

    void audit(Context ctx) {
        MigrationRecord r = record(ctx);
        ApiServer.ok(ctx, Json.audit(store.audit().list(r.id())));
    }

    /** seed 002's migration plus its endpoints (URLs without credentials; never a password) and runtime facts. */
    private ObjectNode migration(MigrationRecord r) {
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

    private MigrationRecord record(Context ctx) {
        return store.migrations().get(ctx.pathParam("id"));
    }

    private Manifest runnable(MigrationRecord r) {
        if (r.status().state() == MigrationState.PENDING) {
            throw TandemException.badState("migration " + r.id() + " is pending: expected state ready (source and "
                    + "target configured), actual pending; PATCH it with source and target first");
        }
        return orchestrator.manifest(r, ManifestReader.Purpose.RUN).manifest();
    }

    private ManifestReader reader() {
        return orchestrator.reader();
    }

    private static ObjectNode stored(MigrationRecord r) {
        JsonNode doc = readJson(r.manifest());
        if (!(doc instanceof ObjectNode o)) {
            throw new IllegalStateException("the stored manifest of " + r.id() + " is not a JSON object");
        }
        return o;
    }

    private static JsonNode readJson(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored JSON is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The request body as a JSON object, or 400 saying where it stopped being JSON. */
    private static JsonNode object(Context ctx) {
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw TandemException.badInput("request body: not JSON (" + e.getOriginalMessage() + " at line "
                    + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + "); send "
                    + "Content-Type: application/json with a JSON object");
        }
        if (body == null || !body.isObject()) {
            throw TandemException.badInput("request body: expected a JSON object, got " + (body == null ? "nothing"
                    : body.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        return body;
    }

    private static String compact(JsonNode doc) {
        try {
            return COMPACT.writeValueAsString(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String actor(Context ctx) {
        String a = ctx.attribute("actor");
        return a == null ? "api" : a;
    }
}
