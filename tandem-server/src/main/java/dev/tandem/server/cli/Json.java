package dev.tandem.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.Problem;
import dev.tandem.core.plan.EndpointReport;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.plan.TablePlan;
import dev.tandem.core.spi.Finding;
import java.util.Locale;

/**
 * The CLI's JSON documents, built field by field: they are an interface scripts depend on, so their shape is
 * written down here rather than derived from Java classes. Keys are snake_case like the seeds' JSON.
 */
final class Json {
    private Json() {
    }

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static String write(ObjectNode node) {
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
    static int reportProblems(ManifestException e, boolean json, java.io.PrintWriter out) {
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
    static ObjectNode problems(ManifestException e) {
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

    static ObjectNode plan(PlanReport r) {
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
}
