package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
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
    StoreOption store;

    private final Map<String, String> env;

    ChunksCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ControlStore cs = store.openExisting(env)) {
            cs.runs().get(runId);
            List<ChunkRecord> chunks = cs.runs().chunks(runId, status);
            if (json) {
                ObjectNode root = Json.MAPPER.createObjectNode();
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
                out.println(Json.write(root));
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
        }
        return 0;
    }
}
