package dev.tandem.server.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.cdc.LagReport;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftKind;
import dev.tandem.core.store.DriftLog;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Routing;
import dev.tandem.core.store.RunRecord;
import dev.tandem.server.wire.Json;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** What the API reports about a migration: status, lag, runs and chunks, drift, the audit log. */
final class ReportsApi {
    private final ControlStore store;
    private final Orchestrator orchestrator;
    private final ApiCalls calls;

    ReportsApi(ApiCalls calls) {
        this.calls = calls;
        this.store = calls.store;
        this.orchestrator = calls.orchestrator;
    }

    void register(ApiCalls.Routes r, String base) {
        String one = base + "/migrations/{id}";
        r.add(HandlerType.GET, one + "/status", Tokens.Role.READ, "State, phase, progress, lag, verification, alerts",
                this::status);
        r.add(HandlerType.GET, one + "/lag", Tokens.Role.READ, "Replication lag (seed 000's shape)", this::lag);
        r.add(HandlerType.GET, one + "/runs", Tokens.Role.READ, "Backfill and verify runs", this::runs);
        r.add(HandlerType.GET, one + "/runs/{run}/chunks", Tokens.Role.READ, "A run's chunks", this::chunks);
        r.add(HandlerType.GET, base + "/runs/{run}/chunks", Tokens.Role.READ, "A run's chunks, by run id alone",
                this::chunks);
        r.add(HandlerType.GET, one + "/drift", Tokens.Role.READ, "Rows found different by verification",
                this::drift);
        r.add(HandlerType.GET, one + "/audit", Tokens.Role.READ, "Every transition and operator action, with who",
                this::audit);
    }

    /** State, phase, backfill progress, lag, the last verification, failed tables, routers, routing, alerts. */
    void status(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("id", r.id());
        n.put("status", r.status().state().wire());
        n.put("phase", r.status().phase().wire());
        n.put("running_here", orchestrator.isRunningHere(r.id()));
        n.put("verifying", orchestrator.isVerifying(r.id()));
        n.put("worker", store.leases().liveHolder(r.id()).orElse(null));
        n.put("last_error", orchestrator.lastError(r.id()).orElse(null));
        List<RunRecord> runs = store.runs().list(r.id());
        backfill(n, runs);
        lag(n, r);
        verification(n, runs);
        ArrayNode failed = n.putArray("failed_tables");
        store.failedTables().list(r.id()).forEach(f -> failed.addObject().put("table", f.table())
                .put("error", f.error()).put("at", f.failedAt().toString()));
        n.put("failure_handling", orchestrator.failureHandling(r));
        routers(n, r);
        alerts(n, r);
        Envelope.ok(ctx, n);
    }

    /** The newest backfill run: its status, chunks by status, rows copied. */
    private void backfill(ObjectNode n, List<RunRecord> runs) {
        runs.stream().filter(x -> x.kind() == RunRecord.Kind.BACKFILL).findFirst().ifPresent(run -> {
            ObjectNode b = n.putObject("backfill");
            b.put("run_id", run.runId());
            b.put("run_status", run.status().name());
            ObjectNode c = b.putObject("chunks");
            store.runs().chunkCounts(run.runId()).forEach((s, count) -> c.put(s.name(), count));
            b.put("rows", store.runs().chunks(run.runId(), ChunkStatus.PASS).stream()
                    .mapToLong(x -> x.rowsDone()).sum());
        });
    }

    /** The lag of the stream that matters: once cut over the reverse one (target to source, kept for a rollback). */
    private void lag(ObjectNode n, MigrationRecord r) {
        LagReport.Live live;
        try {
            live = LagReport.live(store, r); // the stream /lag and tandem lag follow
        } catch (TandemException e) {
            return; // no change stream, or no lag recorded yet: status leaves lag out
        }
        LagReport lag = live.report();
        ObjectNode l = n.putObject("lag");
        l.put("stream", live.direction().wire());
        l.put("seconds", lag.seconds());
        l.put("records", lag.records());
        l.put("bytes", lag.bytes());
        l.put("trend", lag.trend());
        l.put("stale", lag.stale());
    }

    /** The newest verify run and its differing rows. */
    private void verification(ObjectNode n, List<RunRecord> runs) {
        runs.stream().filter(x -> x.kind() == RunRecord.Kind.VERIFY).findFirst().ifPresent(run -> {
            List<DriftLog.DriftRow> rows = store.drift().list(run.runId());
            ObjectNode v = n.putObject("verification");
            v.put("run_id", run.runId());
            v.put("run_status", run.status().name());
            v.put("differing_rows", rows.stream().filter(d -> d.kind() != DriftKind.SCHEMA).count());
            v.put("unrepaired_rows", rows.stream().filter(d -> d.kind() != DriftKind.SCHEMA
                    && d.repairedAt() == null).count());
            v.put("schema_differences", rows.stream().filter(d -> d.kind() == DriftKind.SCHEMA).count());
        });
    }

    /** The routers following the migration, and the routing state with the last procedure's report. */
    private void routers(ObjectNode n, MigrationRecord r) {
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
        routing.put("cut_over", ApiCalls.cutOver(r, control));
        routing.put("frozen", control.map(Routing.Control::frozen).orElse(false));
        if (control.isPresent() && control.get().last() != null) {
            routing.set("last_procedure", control.get().last());
        }
    }

    /** The alerts firing now (none once the migration ended). */
    private void alerts(ObjectNode n, MigrationRecord r) {
        n.set("alerts", Json.alerts(r.status().state().isTerminal() ? List.of() : store.alerts().list(r.id(), true)));
    }

    void lag(Context ctx) {
        Envelope.ok(ctx, Json.lag(LagReport.live(store, calls.record(ctx))));
    }

    void runs(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        Envelope.ok(ctx, Json.runs(store, r.id(), store.runs().list(r.id())));
    }

    /** A run's chunks: under its migration's path, or by run id alone ({@code /api/v1/runs/{run}/chunks}). */
    void chunks(Context ctx) {
        String id = ctx.pathParamMap().get("id");
        if (id != null) {
            store.migrations().get(id);
        }
        long runId = ctx.pathParamAsClass("run", Long.class).get();
        RunRecord run = store.runs().find(runId).filter(x -> id == null || id.equals(x.migrationId()))
                .orElseThrow(() -> TandemException.notFound("run " + runId + (id == null ? "" : " of migration " + id)
                        + " not found"));
        ChunkStatus only = null;
        String status = ctx.queryParam("status");
        if (status != null) {
            try {
                only = ChunkStatus.valueOf(status.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw TandemException.badInput("status: '" + status + "' is not a chunk status; use one of "
                        + Arrays.toString(ChunkStatus.values()));
            }
        }
        Envelope.ok(ctx, Json.chunks(run.runId(), store.runs().chunks(run.runId(), only)));
    }

    /** Drift stored by the migration's verify runs, newest run first. */
    void drift(Context ctx) {
        MigrationRecord r = calls.record(ctx);
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
                n.set("key", ApiCalls.readJson(d.keyValues()));
                n.put("kind", d.kind().wire());
                n.set("columns", d.columns() == null ? null : ApiCalls.readJson(d.columns()));
                n.put("detected_at", String.valueOf(d.detectedAt()));
                n.put("repaired_at", d.repairedAt() == null ? null : d.repairedAt().toString());
            }
        }
        Envelope.ok(ctx, out);
    }

    void audit(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        Envelope.ok(ctx, Json.audit(store.audit().list(r.id())));
    }
}
