package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.verify.VerifyReport;
import dev.tandem.core.verify.VerifyRunner;
import dev.tandem.server.wire.ApiClient;
import dev.tandem.server.wire.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tandem verify -f m.yaml [--repair] [--prev-run RUN] [--json]}: prove source and target equal. */
@Command(name = "verify",
        header = "Compare the manifest's tables on source and target, chunk by chunk, down to the differing rows.",
        mixinStandardHelpOptions = true,
        description = {
                "Splits each table into key ranges of about data.chunk_rows rows; for each range both databases "
                        + "compute a row count and a checksum of the same columns. A range whose sums differ is "
                        + "compared row by row. Every differing row is stored with its key; the report shows per "
                        + "table the rows processed, matching, mismatched, extra on source (missing on the target) "
                        + "and extra on target, with samples of the differing columns.",
                "",
                "--repair copies each differing row again from the source, only if the source row did not change "
                        + "since it was compared. Works on any two databases the manifest names, with or without a "
                        + "migration in the store.",
                "",
                "While the manifest's migration streams changes (catch-up), a difference counts only if it is still "
                        + "there after the target applied past the source position of its comparison; rows that "
                        + "keep changing are reported as in flight, not as drift.",
                "",
                "Exit codes: 0 equal (or every difference repaired), 1 differences remain, 2 bad manifest or "
                        + "options, 3 the migration's stream did not catch up to recheck differences (or it is still "
                        + "copying), 4 source problem, 5 target problem."},
        footer = {"", "Examples:", "  tandem verify -f orders.yaml", "  tandem verify -f orders.yaml --repair",
                "  tandem verify -f orders.yaml --prev-run 1763721234000000000 --json"})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "MANIFEST",
            description = "The migration manifest (YAML or JSON).")
    Path file;

    @Option(names = "--repair", description = "Copy differing rows again from the source (unless changed since).")
    boolean repair;

    @Option(names = "--prev-run", paramLabel = "RUN_ID",
            description = "Verify again only the chunks of this earlier verify run that were not equal or not reached.")
    Long prevRun;

    @Option(names = "--json", description = "Print the report as JSON (progress then goes to stderr).")
    boolean json;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    VerifyCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter talk = json ? spec.commandLine().getErr() : out;
        java.util.Optional<ApiClient> server = where.server(env);
        if (server.isPresent()) {
            if (prevRun != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--prev-run works on a control "
                        + "store; through --server a verify always covers every table");
            }
            return remote(server.get(), talk, out);
        }
        ManifestDocument doc;
        try {
            doc = new ManifestReader(env::get).document(file, ManifestReader.Purpose.RUN);
        } catch (ManifestException e) {
            return Json.reportProblems(e, json, out);
        }
        try (ControlStore cs = where.openStore(env)) {
            VerifyReport report = new VerifyRunner(cs, ConnectorRegistry.load(), line -> {
                talk.println(line);
                talk.flush();
            }).verify(doc.manifest(), new VerifyRunner.Options(prevRun, repair));
            if (json) {
                out.println(Json.write(json(report)));
            } else {
                print(out, report);
            }
            if (report.unrepaired() > 0 || report.schemaDifferences() > 0) {
                return 1;
            }
            if (report.whyInFlight() != null) {
                talk.println(report.inFlight() + " differing rows could not be confirmed or cleared: "
                        + report.whyInFlight() + ". Verify again once the stream runs: tandem verify -f MANIFEST "
                        + "--prev-run " + report.runId());
                talk.flush();
                return 3;
            }
            return 0;
        }
    }

    private static ObjectNode json(VerifyReport r) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("run_id", r.runId());
        root.put("migration_id", r.migrationId());
        root.put("equal", r.equal());
        root.put("differing_rows", r.differing());
        root.put("schema_differences", r.schemaDifferences());
        root.put("unrepaired_rows", r.unrepaired());
        root.put("lag_aware", r.lagAware());
        root.put("in_flight_rows", r.inFlight());
        root.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        ArrayNode tables = root.putArray("tables");
        for (VerifyReport.TableReport t : r.tables()) {
            ObjectNode n = tables.addObject();
            n.put("table", t.table());
            ArrayNode schema = n.putArray("schema_differences");
            t.schema().forEach(schema::add);
            n.put("processed_rows", t.processed());
            n.put("matching_rows", t.matching());
            n.put("mismatched_rows", t.mismatched());
            n.put("extra_rows_source", t.extraOnSource());
            n.put("extra_rows_target", t.extraOnTarget());
            n.put("repaired_rows", t.repaired());
            n.put("changed_since_compared", t.changedSinceCompared());
            n.put("in_flight_rows", t.inFlight());
            ArrayNode samples = n.putArray("samples");
            for (VerifyReport.Sample s : t.samples()) {
                ObjectNode sn = samples.addObject();
                ArrayNode key = sn.putArray("key");
                s.key().forEach(key::add);
                sn.put("kind", s.kind().wire());
                ObjectNode cols = sn.putObject("columns");
                s.columns().forEach((col, values) -> {
                    ObjectNode v = cols.putObject(col);
                    v.put("source", values.get(0));
                    v.put("target", values.get(1));
                });
            }
        }
        return root;
    }

    /**
     * Through a server: the migration of this manifest is created there if missing (or updated if not started), the
     * server verifies it (lag-aware while it streams), and this waits for the run to end and reports its differing
     * rows from the server's store.
     */
    private int remote(ApiClient server, PrintWriter talk, PrintWriter out) {
        String id = RemoteManifest.upsert(server, file, env);
        String one = "/api/v1/migrations/" + id;
        java.util.Set<Long> before = new java.util.HashSet<>();
        server.get(one + "/runs").path("runs").forEach(r -> before.add(r.path("run_id").asLong()));
        server.post(one + "/verify" + (repair ? "?repair=true" : ""), null);
        talk.println("Verifying " + id + " on " + server.base() + " ...");
        talk.flush();
        long run;
        try {
            run = awaitRun(server, id, before);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return MigrationOutcome.INTERRUPTED_EXIT;
        }
        long differing = 0;
        long unrepaired = 0;
        var rows = Json.MAPPER.createArrayNode();
        for (var d : server.get(one + "/drift")) {
            if (d.path("run_id").asLong() == run) {
                differing++;
                unrepaired += d.path("repaired_at").isNull() ? 1 : 0;
                rows.add(d);
            }
        }
        if (json) {
            var root = Json.MAPPER.createObjectNode();
            root.put("run_id", run);
            root.put("migration_id", id);
            root.put("equal", unrepaired == 0);
            root.put("differing_rows", differing);
            root.put("unrepaired_rows", unrepaired);
            root.set("rows", rows);
            out.println(Json.write(root));
        } else {
            out.println("Verify run " + run + " of " + id + " on " + server.base() + ": " + (differing == 0
                    ? "no drift" : differing + " differing rows, " + unrepaired + " not repaired"));
            for (int i = 0; i < Math.min(10, rows.size()); i++) {
                var d = rows.get(i);
                out.println("  " + d.path("table").asText() + " " + d.path("kind").asText() + " " + d.path("key")
                        + (d.path("columns").isArray() ? " " + d.path("columns") : ""));
            }
        }
        return unrepaired > 0 ? 1 : 0;
    }

    /** The id of the verify run the server ends for {@code id} that is not among {@code before}. */
    private static long awaitRun(ApiClient server, String id, java.util.Set<Long> before) throws InterruptedException {
        String one = "/api/v1/migrations/" + id;
        long started = System.nanoTime();
        while (true) {
            for (var r : server.get(one + "/runs").path("runs")) {
                if (r.path("kind").asText().equals("verify") && r.path("status").asText().equals("ENDED")
                        && !before.contains(r.path("run_id").asLong())) {
                    return r.path("run_id").asLong();
                }
            }
            var status = server.get(one + "/status");
            if (!status.path("verifying").asBoolean() && System.nanoTime() - started > 2_000_000_000L) {
                throw new dev.tandem.core.error.TandemException(dev.tandem.core.error.ErrorCode.BAD_STATE,
                        "the server's verify of " + id + " ended without a report: " + status.path("last_error")
                        .asText("no error recorded; see the server's log"));
            }
            Thread.sleep(500);
        }
    }

    private static void print(PrintWriter out, VerifyReport r) {
        String row = "%-32s %12s %12s %10s %12s %12s %9s%n";
        out.printf(Locale.ROOT, row, "TABLE", "PROCESSED", "MATCHING", "MISMATCHED", "EXTRA_SOURCE", "EXTRA_TARGET",
                "REPAIRED");
        for (VerifyReport.TableReport t : r.tables()) {
            out.printf(Locale.ROOT, row, t.table(), t.processed(), t.matching(), t.mismatched(), t.extraOnSource(),
                    t.extraOnTarget(), t.repaired());
        }
        for (VerifyReport.TableReport t : r.tables()) {
            for (String d : t.schema()) {
                out.println("  " + t.table() + " schema: " + d);
            }
            for (VerifyReport.Sample s : t.samples()) {
                out.println("  " + t.table() + " " + s.kind().wire() + " key " + s.key() + sampleColumns(s.columns()));
            }
            if (t.differing() > t.samples().size()) {
                out.println("  " + t.table() + ": " + (t.differing() - t.samples().size()) + " more differing rows "
                        + "(all stored in the control store with run " + r.runId() + ")");
            }
            if (t.inFlight() > 0) {
                out.println("  " + t.table() + ": " + t.inFlight() + " rows kept changing while compared (in flight, "
                        + "not drift)");
            }
            if (t.changedSinceCompared() > 0) {
                out.println("  " + t.table() + ": " + t.changedSinceCompared() + " rows changed on the source since "
                        + "they were compared; not repaired (verify again)");
            }
        }
        String rows = r.differing() == 0 ? "equal" : r.unrepaired() == 0 ? r.differing() + " differing rows, all "
                + "repaired" : r.unrepaired() + " differing rows not repaired";
        String verdict = r.schemaDifferences() == 0 ? rows : r.schemaDifferences() + " column difference"
                + (r.schemaDifferences() == 1 ? "" : "s") + " (alter the target to match, or the source; verify does "
                + "not repair columns); rows over the common columns: " + rows;
        out.printf(Locale.ROOT, "Run %d: %s (%.1f s). Rerun only what was not equal: tandem verify -f MANIFEST "
                + "--prev-run %d%n", r.runId(), verdict, r.seconds(), r.runId());
    }

    private static String sampleColumns(Map<String, List<String>> columns) {
        if (columns.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(":");
        columns.forEach((col, v) -> sb.append(' ').append(col).append(" source=").append(v.get(0)).append(" target=")
                .append(v.get(1)));
        return sb.toString();
    }
}
