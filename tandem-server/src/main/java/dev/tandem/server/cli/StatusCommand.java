package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
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
    StoreOption store;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    private final Map<String, String> env;

    StatusCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        try (ControlStore cs = store.openExisting(env)) {
            if (id == null) {
                list(out, cs, cs.migrations().list());
            } else {
                one(out, cs.migrations().get(id), cs.audit().list(id));
            }
        }
        return 0;
    }

    private void list(PrintWriter out, ControlStore cs, List<MigrationRecord> all) throws IOException {
        if (json) {
            ObjectNode root = Json.MAPPER.createObjectNode();
            ArrayNode list = root.putArray("migrations");
            for (MigrationRecord m : all) {
                list.add(migration(m));
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

    private void one(PrintWriter out, MigrationRecord m, List<AuditEntry> audit) throws IOException {
        if (json) {
            ObjectNode n = migration(m);
            ArrayNode a = n.putArray("audit");
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
            out.println(Json.write(n));
            return;
        }
        out.println("Migration " + m.id() + (m.description() == null ? "" : ": " + m.description()));
        out.println("  uuid     " + m.uuid());
        out.println("  state    " + m.status().state().wire());
        out.println("  phase    " + m.status().phase().wire());
        out.println("  created  " + m.createdAt());
        out.println("  updated  " + m.updatedAt());
        out.println("Audit log");
        for (AuditEntry e : audit) {
            out.println("  #" + e.id() + "  " + e.occurredAt() + "  " + e.actor() + "  " + e.action() + "  "
                    + (e.from() == null ? "-" : e.from()) + " -> " + (e.to() == null ? "-" : e.to())
                    + (e.detail() == null ? "" : "  (" + e.detail() + ")"));
        }
    }

    /** Seed 002's migration shape: id, uuid, description, status, strategy, created_at, updated_at (plus phase). */
    private static ObjectNode migration(MigrationRecord m) throws IOException {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("id", m.id());
        n.put("uuid", m.uuid().toString());
        n.put("description", m.description());
        n.put("status", m.status().state().wire());
        n.put("phase", m.status().phase().wire());
        JsonNode doc = Json.MAPPER.readTree(m.manifest());
        if (doc.has("strategy")) {
            n.set("strategy", doc.get("strategy"));
        }
        n.put("created_at", m.createdAt().toString());
        n.put("updated_at", m.updatedAt().toString());
        return n;
    }
}
