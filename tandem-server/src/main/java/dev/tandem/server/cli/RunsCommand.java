package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import java.io.PrintWriter;
import java.time.temporal.ChronoUnit;
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

/** {@code tandem runs MIGRATION_ID}: seed 003's run table, newest first. */
@Command(name = "runs", header = "List a migration's runs, newest first, with their chunks by status.",
        mixinStandardHelpOptions = true,
        description = "Each run has an id (use it with --prev-run and tandem chunks), a status (NOT_STARTED, STARTED, "
                + "ENDED), the run it redid, and how many of its chunks are PASS, FAIL, and so on.")
final class RunsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MIGRATION_ID")
    String migrationId;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Mixin
    StoreOption store;

    private final Map<String, String> env;

    RunsCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ControlStore cs = store.openExisting(env)) {
            cs.migrations().get(migrationId);
            List<RunRecord> runs = cs.runs().list(migrationId);
            if (json) {
                ObjectNode root = Json.MAPPER.createObjectNode();
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
                out.println(Json.write(root));
                return 0;
            }
            if (runs.isEmpty()) {
                out.println("Migration " + migrationId + " has no runs yet.");
                return 0;
            }
            String row = "%-19s  %-8s  %-11s  %-19s  %-20s  %-28s  %s%n";
            out.printf(Locale.ROOT, row, "RUN_ID", "KIND", "STATUS", "PREV_RUN", "CREATED", "CHUNKS", "INFO");
            for (RunRecord r : runs) {
                Map<ChunkStatus, Long> counts = cs.runs().chunkCounts(r.runId());
                StringBuilder c = new StringBuilder();
                counts.forEach((s, n) -> c.append(c.length() == 0 ? "" : " ").append(s.name()).append('=').append(n));
                out.printf(Locale.ROOT, row, r.runId(), r.kind().name().toLowerCase(Locale.ROOT), r.status().name(),
                        r.prevRunId() == null ? "-" : r.prevRunId(), r.createdAt().truncatedTo(ChronoUnit.SECONDS),
                        c, r.runInfo() == null ? "" : r.runInfo());
            }
        }
        return 0;
    }
}
