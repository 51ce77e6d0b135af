package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.backfill.BackfillResult;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationListener;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.plan.Sizes;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.server.wire.ApiClient;
import dev.tandem.server.wire.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tandem migrate -f m.yaml}: prepare and backfill in the foreground, with progress per table. */
@Command(name = "migrate",
        header = "Run a migration in the foreground: create the target tables and copy the data, with progress.",
        mixinStandardHelpOptions = true,
        description = {
                "Checks both databases (as plan does), creates the target tables (schema: create), splits every "
                        + "table into key ranges of about data.chunk_rows rows and copies them with "
                        + "data.parallelism workers, each range in one target transaction. Every range is tracked in "
                        + "the control store: if the run stops (an error, Ctrl-C, kill -9), run it again with "
                        + "--prev-run RUN_ID and only the ranges not yet done are copied.",
                "",
                "With cdc enabled (logical_replication or timestamp_column), the change stream opens before the first "
                        + "range is copied and streams alongside; afterwards it keeps streaming until tandem stop "
                        + "(continuous.stop_when: manual) or until the target is in sync (in_sync).",
                "",
                "Exit codes: 0 done, 2 bad manifest or options, 3 bad state, 4 source problem, 5 target problem, "
                        + "130 interrupted."},
        footer = {"", "Examples:", "  tandem migrate -f orders.yaml",
                "  tandem migrate -f orders.yaml --prev-run 1763721234000000000",
                "  tandem migrate -f orders.yaml --range-min 1 --range-max 100000"})
final class MigrateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "MANIFEST",
            description = "The migration manifest (YAML or JSON).")
    Path file;

    @Option(names = "--prev-run", paramLabel = "RUN_ID",
            description = "Redo only the NOT_STARTED, STARTED, FAIL and DIFF chunks of this earlier run.")
    Long prevRun;

    @Option(names = "--range-min", paramLabel = "KEY",
            description = "Copy only keys from KEY on (inclusive); a JSON array for a composite key.")
    String rangeMin;

    @Option(names = "--range-max", paramLabel = "KEY", description = "Copy only keys up to KEY (inclusive).")
    String rangeMax;

    @Option(names = "--json", description = "Print a JSON summary at the end (progress then goes to stderr).")
    boolean json;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    MigrateCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter talk = json ? spec.commandLine().getErr() : out;
        java.util.Optional<ApiClient> server = where.server(env);
        if (server.isPresent()) {
            if (prevRun != null || rangeMin != null || rangeMax != null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "with --server the server "
                        + "decides what to continue; leave out --prev-run, --range-min and --range-max");
            }
            String id = RemoteManifest.upsert(server.get(), file, env);
            var d = server.get().post("/api/v1/migrations/" + id + "/migrate", null);
            if (json) {
                out.println(Json.write(d));
            } else {
                out.println("Migration " + id + " runs on " + server.get().base() + " (" + d.path("status").asText()
                        + ", phase " + d.path("phase").asText() + "); follow it with: tandem status " + id
                        + " --server " + server.get().base());
            }
            return 0;
        }
        if (prevRun != null && (rangeMin != null || rangeMax != null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--prev-run redoes the previous run's "
                    + "chunks with their own ranges; leave out --range-min/--range-max");
        }
        ManifestDocument doc;
        try {
            doc = new ManifestReader(env::get).document(file, ManifestReader.Purpose.RUN);
        } catch (ManifestException e) {
            return Json.reportProblems(e, json, out);
        }
        return run(doc, new RunOptions(prevRun, rangeMin, rangeMax, actor()), out, talk);
    }

    int run(ManifestDocument doc, RunOptions options, PrintWriter out, PrintWriter talk) {
        try (ControlStore cs = where.openStore(env)) {
            MigrationOutcome outcome = execute(cs, doc, options, talk, System.console() != null && !json);
            if (json) {
                out.println(Json.write(summary(outcome)));
            } else {
                print(talk, outcome);
            }
            return outcome.exitCode();
        }
    }

    /**
     * Runs the migration with progress on {@code talk}; Ctrl-C or SIGTERM stops it cleanly (chunks in flight roll
     * back and the migration is paused). Shared with {@code tandem demo}.
     */
    static MigrationOutcome execute(ControlStore cs, ManifestDocument doc, RunOptions options,
                                    PrintWriter talk, boolean interactive) {
        try (ProgressPrinter progress = new ProgressPrinter(talk, interactive)) {
            MigrationRunner runner = new MigrationRunner(cs, ConnectorRegistry.load(), MigrationListener.of(progress,
                    line -> {
                        talk.println(line);
                        talk.flush();
                    }));
            try (Interrupts ignored = Interrupts.install(() -> {
                talk.println("Stopping: chunks in flight roll back (press Ctrl-C again to exit at once) ...");
                talk.flush();
                runner.stop();
            })) {
                return runner.migrate(doc, options);
            }
        }
    }

    static void print(PrintWriter out, MigrationOutcome o) {
        BackfillResult b = o.backfill();
        out.println();
        if (b != null) {
            long rows = b.tables().stream().mapToLong(BackfillResult.TableResult::rows).sum();
            long bytes = b.tables().stream().mapToLong(BackfillResult.TableResult::bytes).sum();
            out.printf(Locale.ROOT, "Run %d: %s. %,d rows, %s%n", b.runId(), b.complete() ? "every chunk PASS"
                    : b.interrupted() ? "interrupted" : "not finished", rows, Sizes.bytes(bytes));
            int w = b.tables().stream().mapToInt(t -> t.table().length()).max().orElse(5);
            String row = "  %-" + w + "s  %12s  %10s  %8s  %s%n";
            out.printf(Locale.ROOT, row, "TABLE", "ROWS", "SIZE", "SECONDS", "CHUNKS");
            for (BackfillResult.TableResult t : b.tables()) {
                out.printf(Locale.ROOT, row, t.table(), String.format(Locale.ROOT, "%,d", t.rows()),
                        Sizes.bytes(t.bytes()), String.format(Locale.ROOT, "%.1f", t.seconds()), chunks(t.chunks()));
            }
        }
        out.println("Migration " + o.migrationId() + ": " + o.status().state().wire() + " (phase "
                + o.status().phase().wire() + "). " + o.message() + ".");
    }

    private static String chunks(Map<ChunkStatus, Long> counts) {
        StringBuilder b = new StringBuilder();
        counts.forEach((s, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(s.name()));
        return b.toString();
    }

    private static ObjectNode summary(MigrationOutcome o) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("migration_id", o.migrationId());
        root.put("state", o.status().state().wire());
        root.put("phase", o.status().phase().wire());
        root.put("exit_code", o.exitCode());
        root.put("message", o.message());
        BackfillResult b = o.backfill();
        if (b != null) {
            root.put("run_id", b.runId());
            root.put("complete", b.complete());
            root.put("interrupted", b.interrupted());
            ArrayNode tables = root.putArray("tables");
            for (BackfillResult.TableResult t : b.tables()) {
                ObjectNode n = tables.addObject();
                n.put("table", t.table());
                n.put("rows", t.rows());
                n.put("bytes", t.bytes());
                n.put("seconds", Math.round(t.seconds() * 1000) / 1000.0);
                ObjectNode c = n.putObject("chunks");
                t.chunks().forEach((s, count) -> c.put(s.name(), count));
            }
            ArrayNode failed = root.putArray("failed_tables");
            b.failedTables().forEach(failed::add);
        }
        ArrayNode schema = root.putArray("schema_actions");
        o.schemaActions().forEach(schema::add);
        return root;
    }

    static String actor() {
        String user = System.getProperty("user.name");
        return "cli:" + (user == null ? "unknown" : user);
    }
}
