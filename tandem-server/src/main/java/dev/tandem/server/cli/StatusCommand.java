package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.store.AlertLog;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.server.wire.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem status [ID]}: the migrations in the control store, or one of them with its audit log. */
@Command(name = "status",
        header = "Show the migrations in the control store, or one with its audit log.",
        mixinStandardHelpOptions = true,
        description = {"Shows the migrations in the control store (state, phase, last change), or one migration "
                + "with its audit log: every transition and who made it."},
        footer = {"", "Example:", "  tandem status --store .tandem/demo/store shop-demo"})
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "ID", description = "A migration id; without it, all migrations.")
    String id;


    @Mixin
    RemoteOrLocal where;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    private final Map<String, String> env;

    StatusCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return where.runReading(env, server -> {
            if (id == null) {
                var list = server.get("/api/v1/migrations");
                if (json) {
                    out.println(Json.write(Json.MAPPER.createObjectNode().set("migrations", list)));
                } else {
                    for (var m : list) {
                        out.printf(Locale.ROOT, "%-24s  %-12s  %-9s  %s%n", m.path("id").asText(),
                                m.path("status").asText(), m.path("phase").asText(), m.path("description").asText(""));
                    }
                }
                return 0;
            }
            var s = server.get("/api/v1/migrations/" + id + "/status");
            if (json) {
                out.println(Json.write(s));
                return 0;
            }
            out.println("Migration " + id + ": " + s.path("status").asText() + " (phase " + s.path("phase").asText()
                    + ")" + (s.path("worker").isNull() ? "" : ", run by " + s.path("worker").asText()));
            if (s.has("backfill")) {
                out.println("  backfill  run " + s.path("backfill").path("run_id").asText() + ": "
                        + s.path("backfill").path("chunks"));
            }
            if (s.has("lag")) {
                out.printf(Locale.ROOT, "  lag       %.1f s, %d records (%s)%n", s.path("lag").path("seconds")
                        .asDouble(), s.path("lag").path("records").asLong(), s.path("lag").path("trend").asText());
            }
            if (s.has("verification")) {
                out.println("  verified  run " + s.path("verification").path("run_id").asText() + ": "
                        + s.path("verification").path("unrepaired_rows").asLong() + " unrepaired differing rows");
            }
            for (var a : s.path("alerts")) {
                out.println("  ALERT     " + a.path("severity").asText() + " " + a.path("name").asText() + ": "
                        + a.path("message").asText(""));
            }
            if (!s.path("last_error").isNull() && s.has("last_error")) {
                out.println("  error     " + s.path("last_error").asText());
            }
            return 0;
        }, cs -> {
            if (id == null) {
                list(out, cs, cs.migrations().list());
            } else {
                MigrationRecord m = cs.migrations().get(id);
                one(out, m, cs.audit().list(id), m.status().state().isTerminal() ? List.of()
                        : cs.alerts().list(id, true));
            }
            return 0;
        });
    }

    private void list(PrintWriter out, ControlStore cs, List<MigrationRecord> all) throws IOException {
        if (json) {
            ObjectNode root = Json.MAPPER.createObjectNode();
            ArrayNode list = root.putArray("migrations");
            for (MigrationRecord m : all) {
                list.add(Json.migration(m));
            }
            out.println(Json.write(root));
            return;
        }
        if (all.isEmpty()) {
            out.println("No migrations in the control store " + cs.display() + ".");
            return;
        }
        int w = Math.max(2, all.stream().mapToInt(m -> m.id().length()).max().orElse(2));
        String row = "%-" + w + "s  %-12s  %-9s  %-20s  %s%n";
        out.printf(Locale.ROOT, row, "ID", "STATE", "PHASE", "UPDATED", "DESCRIPTION");
        for (MigrationRecord m : all) {
            out.printf(Locale.ROOT, row, m.id(), m.status().state().wire(), m.status().phase().wire(),
                    m.updatedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                    m.description() == null ? "" : m.description());
        }
    }

    private void one(PrintWriter out, MigrationRecord m, List<AuditEntry> audit, List<AlertLog.Alert> alerts)
            throws IOException {
        if (json) {
            ObjectNode n = Json.migration(m);
            n.set("alerts", Json.alerts(alerts));
            n.set("audit", Json.audit(audit));
            out.println(Json.write(n));
            return;
        }
        out.println("Migration " + m.id() + (m.description() == null ? "" : ": " + m.description()));
        out.println("  uuid     " + m.uuid());
        out.println("  state    " + m.status().state().wire());
        out.println("  phase    " + m.status().phase().wire());
        out.println("  created  " + m.createdAt());
        out.println("  updated  " + m.updatedAt());
        for (AlertLog.Alert a : alerts) {
            out.println("  ALERT    " + a.severity() + " " + a.name() + ": " + a.message());
        }
        out.println("Audit log");
        for (AuditEntry e : audit) {
            out.println("  #" + e.id() + "  " + e.occurredAt() + "  " + e.actor() + "  " + e.action() + "  "
                    + (e.from() == null ? "-" : e.from()) + " -> " + (e.to() == null ? "-" : e.to())
                    + (e.detail() == null ? "" : "  (" + e.detail() + ")"));
        }
    }
}
