package dev.tandem.server.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.cdc.LagReport;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.Problem;
import dev.tandem.core.plan.EndpointReport;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.plan.TablePlan;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.store.AlertLog;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.StreamPosition;
import java.util.List;
import java.util.Locale;

/**
 * The JSON documents of the CLI ({@code --json}) and the REST API (its {@code data}), built field by field: they are
 * an interface scripts depend on, so their shape is written down here rather than derived from Java classes, and a
 * CLI verb and its REST resource answer the same shape. Keys are snake_case like the seeds' JSON.
 */
public final class Json {
    private Json() {
    }

    public static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Prints a bad manifest's problems, as JSON or for people, and returns the exit code (2). Every command that
     * reads a manifest reports it this way.
     */
    public static int reportProblems(ManifestException e, boolean json, java.io.PrintWriter out) {
        if (json) {
            out.println(write(problems(e)));
        } else {
            out.println(e.getMessage());
            out.println();
            out.println("Fix the manifest and run the command again.");
        }
        return e.code().exitCode();
    }

    /** {@code {"ok": false, "exit_code": 2, "problems": [{path, value, rule, fix, message}]}} */
    public static ObjectNode problems(ManifestException e) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("ok", false);
        root.put("exit_code", e.code().exitCode());
        ArrayNode list = root.putArray("problems");
        for (Problem p : e.details()) {
            ObjectNode n = list.addObject();
            n.put("path", p.path());
            n.put("value", p.value());
            n.put("rule", p.rule());
            n.put("fix", p.fix());
            n.put("message", p.message());
        }
        return root;
    }

    public static ObjectNode plan(PlanReport r) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("migration_id", r.migrationId());
        root.put("ok", r.ok());
        ErrorCode failure = r.failure();
        root.put("exit_code", failure == null ? 0 : failure.exitCode());
        root.set("source", endpoint(r.source()));
        root.set("target", endpoint(r.target()));
        ArrayNode tables = root.putArray("tables");
        for (TablePlan t : r.tables()) {
            ObjectNode n = tables.addObject();
            n.put("table", t.table());
            n.put("estimated_rows", t.estimatedRows());
            n.put("estimated_bytes", t.estimatedBytes());
            ArrayNode key = n.putArray("key");
            t.key().forEach(key::add);
            n.put("key_kind", t.keyKind());
            n.put("estimated_chunks", t.estimatedChunks());
            n.put("target_action", t.targetAction());
        }
        ArrayNode steps = root.putArray("steps");
        r.steps().forEach(steps::add);
        ArrayNode problems = root.putArray("problems");
        for (EndpointReport e : new EndpointReport[] {r.source(), r.target()}) {
            e.findings().stream().filter(Finding::isError)
                    .forEach(f -> problems.add(e.role() + ": " + f.message() + ". " + f.fix()));
        }
        return root;
    }

    private static ObjectNode endpoint(EndpointReport e) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("url", e.url());
        n.put("connector", e.connector());
        n.put("server", e.server());
        n.put("change_log_position", e.changeLogPosition());
        ArrayNode findings = n.putArray("findings");
        for (Finding f : e.findings()) {
            ObjectNode fn = findings.addObject();
            fn.put("severity", f.severity().name().toLowerCase(Locale.ROOT));
            fn.put("check", f.check());
            fn.put("subject", f.subject());
            fn.put("message", f.message());
            fn.put("fix", f.fix());
        }
        return n;
    }

    /** Seed 002's migration shape: id, uuid, description, status, strategy, apis, created_at, updated_at (plus phase). */
    public static ObjectNode migration(MigrationRecord m) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("id", m.id());
        n.put("uuid", m.uuid().toString());
        n.put("description", m.description());
        n.put("status", m.status().state().wire());
        n.put("phase", m.status().phase().wire());
        JsonNode doc;
        try {
            doc = MAPPER.readTree(m.manifest());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the stored manifest of " + m.id() + " is not JSON", e);
        }
        if (doc.has("strategy")) {
            n.set("strategy", doc.get("strategy"));
        }
        if (doc.has("apis")) {
            n.set("apis", doc.get("apis"));
        }
        if (doc.has("interlays")) {
            n.set("interlays", doc.get("interlays"));
        }
        n.put("created_at", m.createdAt().toString());
        n.put("updated_at", m.updatedAt().toString());
        return n;
    }

    /** Alerts that fire (status): each with its rule, severity, message, condition, what it observed and since when. */
    public static ArrayNode alerts(List<AlertLog.Alert> alerts) {
        ArrayNode out = MAPPER.createArrayNode();
        for (AlertLog.Alert a : alerts) {
            ObjectNode x = out.addObject();
            x.put("name", a.name());
            x.put("severity", a.severity());
            x.put("message", a.message());
            x.put("condition", a.condition());
            x.put("observed", a.observed());
            x.put("fired_at", a.firedAt().toString());
        }
        return out;
    }

    /** The audit log: every transition and operator action, with who did it. */
    public static ArrayNode audit(List<AuditEntry> audit) {
        ArrayNode a = MAPPER.createArrayNode();
        for (AuditEntry e : audit) {
            ObjectNode en = a.addObject();
            en.put("id", e.id());
            en.put("at", e.occurredAt().toString());
            en.put("actor", e.actor());
            en.put("action", e.action());
            en.put("from", e.from() == null ? null : e.from().toString());
            en.put("to", e.to() == null ? null : e.to().toString());
            en.put("detail", e.detail());
        }
        return a;
    }

    public static ObjectNode runs(ControlStore cs, String migrationId, List<RunRecord> runs) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("migration_id", migrationId);
        ArrayNode list = root.putArray("runs");
        for (RunRecord r : runs) {
            ObjectNode n = list.addObject();
            n.put("run_id", r.runId());
            n.put("kind", r.kind().name().toLowerCase(Locale.ROOT));
            n.put("status", r.status().name());
            if (r.prevRunId() != null) {
                n.put("prev_run_id", r.prevRunId());
            }
            n.put("range_min", r.rangeMin());
            n.put("range_max", r.rangeMax());
            n.put("rows_per_second", r.rowsPerSecond());
            n.put("created_at", String.valueOf(r.createdAt()));
            n.put("started_at", r.startedAt() == null ? null : r.startedAt().toString());
            n.put("ended_at", r.endedAt() == null ? null : r.endedAt().toString());
            n.put("run_info", r.runInfo());
            ObjectNode c = n.putObject("chunks");
            cs.runs().chunkCounts(r.runId()).forEach((s, count) -> c.put(s.name(), count));
        }
        return root;
    }

    public static ObjectNode chunks(long runId, List<ChunkRecord> chunks) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("run_id", runId);
        ArrayNode list = root.putArray("chunks");
        for (ChunkRecord c : chunks) {
            ObjectNode n = list.addObject();
            n.put("table", c.tableName());
            n.put("chunk_no", c.chunkNo());
            n.put("key_min", c.keyMin());
            n.put("key_min_inclusive", c.keyMinInclusive());
            n.put("key_max", c.keyMax());
            n.put("status", c.status().name());
            n.put("rows_estimated", c.rowsEstimated());
            n.put("rows", c.rowsDone());
            n.put("bytes", c.bytesDone());
            n.put("attempts", c.attempts());
            n.put("error", c.error());
            n.put("updated_at", String.valueOf(c.updatedAt()));
        }
        return root;
    }

    /** Seed 000's lag shape. */
    public static ObjectNode lag(LagReport.Live live) {
        LagReport r = live.report();
        StreamPosition pos = live.position();
        String engine = pos.kind().equals("lsn") ? Engine.POSTGRESQL.wire()
                : pos.kind().equals("binlog") ? Engine.MYSQL.wire() : pos.kind();
        ObjectNode root = MAPPER.createObjectNode();
        root.put("stream", live.direction().wire());
        ObjectNode lag = root.putObject("lag");
        lag.put("seconds", r.seconds());
        lag.put("records", r.records());
        lag.put("bytes", r.bytes());
        root.put("trend", r.trend());
        root.put("estimated_catch_up", r.estimatedCatchUp());
        ObjectNode position = root.putObject("cdc_position").putObject(engine);
        position.put(pos.kind().equals("lsn") ? "lsn" : "position", r.position());
        position.put("timestamp", r.positionTime() == null ? null
                : r.positionTime().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        root.put("stale", r.stale());
        return root;
    }
}
