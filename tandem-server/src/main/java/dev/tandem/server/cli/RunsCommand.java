package dev.tandem.server.cli;

import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.RunRecord;
import dev.tandem.server.wire.Json;
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
    RemoteOrLocal where;

    private final Map<String, String> env;

    RunsCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return where.runReading(env, server -> {
            com.fasterxml.jackson.databind.JsonNode data = server.get("/api/v1/migrations/" + migrationId
                    + "/runs");
            if (json) {
                out.println(Json.write(data));
            } else {
                for (com.fasterxml.jackson.databind.JsonNode r : data.path("runs")) {
                    out.printf(Locale.ROOT, "%-19s  %-8s  %-11s  %s  %s%n", r.path("run_id").asText(),
                            r.path("kind").asText(), r.path("status").asText(), r.path("chunks"),
                            r.path("run_info").asText(""));
                }
            }
            return 0;
        }, cs -> {
            cs.migrations().get(migrationId);
            List<RunRecord> runs = cs.runs().list(migrationId);
            if (json) {
                out.println(Json.write(Json.runs(cs, migrationId, runs)));
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
            return 0;
        });
    }
}
