package dev.tandem.server.cli;

import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.server.wire.Json;
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

/** {@code tandem chunks RUN_ID [--status FAIL]}: seed 003's run details. */
@Command(name = "chunks", header = "List a run's chunks: key range, status, rows, attempts, last error.",
        mixinStandardHelpOptions = true,
        description = "Chunk statuses are seed 003's: NOT_STARTED, STARTED, PASS, FAIL, DIFF, DIFF_CORRECTED. A range is "
                + "(KEY_MIN, KEY_MAX]: above KEY_MIN (or from it, marked [) up to and including KEY_MAX.")
final class ChunksCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "RUN_ID")
    long runId;

    @Option(names = "--status", paramLabel = "STATUS", description = "Only chunks with this status.")
    ChunkStatus status;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    ChunksCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return where.runReading(env, server -> {
            com.fasterxml.jackson.databind.JsonNode data = server.get("/api/v1/runs/" + runId + "/chunks"
                    + (status == null ? "" : "?status=" + status.name()));
            if (json) {
                out.println(Json.write(data));
            } else {
                for (com.fasterxml.jackson.databind.JsonNode c : data.path("chunks")) {
                    out.printf(Locale.ROOT, "%s  %5s  %-14s  (%s, %s]  %,d rows%n", c.path("table").asText(),
                            c.path("chunk_no").asText(), c.path("status").asText(), c.path("key_min").asText("-inf"),
                            c.path("key_max").asText("+inf"), c.path("rows").asLong());
                }
            }
            return 0;
        }, cs -> {
            cs.runs().get(runId);
            List<ChunkRecord> chunks = cs.runs().chunks(runId, status);
            if (json) {
                out.println(Json.write(Json.chunks(runId, chunks)));
                return 0;
            }
            int w = Math.max(5, chunks.stream().mapToInt(c -> c.tableName().length()).max().orElse(5));
            String row = "%-" + w + "s  %5s  %-14s  %-36s  %10s  %8s  %s%n";
            out.printf(Locale.ROOT, row, "TABLE", "NO", "STATUS", "RANGE", "ROWS", "ATTEMPTS", "ERROR");
            for (ChunkRecord c : chunks) {
                String range = (c.keyMinInclusive() ? "[" : "(") + (c.keyMin() == null ? "-inf" : c.keyMin()) + ", "
                        + (c.keyMax() == null ? "+inf" : c.keyMax()) + "]";
                out.printf(Locale.ROOT, row, c.tableName(), c.chunkNo(), c.status().name(), range,
                        String.format(Locale.ROOT, "%,d", c.rowsDone()), c.attempts(),
                        c.error() == null ? "" : c.error());
            }
            if (chunks.isEmpty()) {
                out.println("(no chunks" + (status == null ? "" : " with status " + status) + ")");
            }
            return 0;
        });
    }
}
