package dev.tandem.server.cli;

import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.server.wire.ApiClient;
import dev.tandem.server.wire.Json;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tandem plan -f m.yaml [--json]}: validate, connect, preflight, and say what a run would do. */
@Command(name = "plan",
        header = "Check a migration: the manifest, both databases, every preflight check. Changes nothing.",
        mixinStandardHelpOptions = true,
        description = {
                "Checks a migration without changing anything: validates the manifest (every problem at once), "
                        + "connects to source and target, and runs the preflight checks: credentials, tables in "
                        + "scope and their keys, the source's change stream (PostgreSQL: wal_level, REPLICATION, "
                        + "free slots; MySQL/MariaDB: log_bin, binlog_format=ROW, binlog_row_image=FULL) and the "
                        + "target's privileges. Every problem comes with its fix; missing privileges with the exact "
                        + "GRANT statements.",
                "",
                "Exit codes: 0 ready to migrate, 2 bad manifest, 4 source problem, 5 target problem."},
        footer = {"", "Example:", "  SRC_PASSWORD=... DST_PASSWORD=... tandem plan -f orders.yaml"})
final class PlanCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "MANIFEST",
            description = "The migration manifest (YAML or JSON). $${env:NAME} in it reads the environment variable NAME.")
    Path file;

    @Option(names = "--json", description = "Print the result as JSON (for scripts) instead of text.")
    boolean json;

    @picocli.CommandLine.Mixin
    Remote remote;

    private final Map<String, String> env;

    PlanCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        java.util.Optional<ApiClient> server = remote.client(env);
        if (server.isPresent()) {
            // the server checks with its own environment and network, where the migration will run
            String id = RemoteManifest.upsert(server.get(), file, env);
            var d = server.get().post("/api/v1/migrations/" + id + "/test", null);
            if (json) {
                out.println(Json.write(d));
            } else {
                out.println("Migration " + id + " on " + server.get().base() + ": " + (d.path("ok").asBoolean()
                        ? "ready to migrate" : "not ready"));
                d.path("problems").forEach(p -> out.println("  - " + p.asText()));
                d.path("steps").forEach(p -> out.println("  step: " + p.asText()));
            }
            return d.path("ok").asBoolean() ? 0 : Math.max(2, d.path("exit_code").asInt(2));
        }
        return run(file, env, json, out);
    }

    /** Reads, plans and prints; returns the exit code. Shared with {@code tandem demo}. */
    static int run(Path file, Map<String, String> env, boolean json, PrintWriter out) {
        Manifest manifest;
        try {
            manifest = new ManifestReader(env::get).read(file);
        } catch (ManifestException e) {
            return Json.reportProblems(e, json, out);
        }
        PlanReport report = new Planner(ConnectorRegistry.load()).plan(manifest);
        if (json) {
            out.println(Json.write(Json.plan(report)));
        } else {
            new PlanPrinter(out).print(manifest, report);
        }
        return report.ok() ? 0 : report.failure().exitCode();
    }
}
