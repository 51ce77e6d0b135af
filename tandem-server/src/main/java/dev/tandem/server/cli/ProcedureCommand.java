package dev.tandem.server.cli;

import dev.tandem.core.cutover.CutoverReport;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.store.Requests;
import java.io.PrintWriter;
import java.time.Duration;
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

/**
 * {@code tandem cutover|rollback|cleanup ID}: asks the process that streams the migration (a {@code tandem migrate}
 * or a server, reached through the store or {@code --server}) to run the procedure, waits for it, and prints its
 * report: each step with its time and the write pause the routers measured.
 */
abstract class ProcedureCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;
    private final Requests.Kind kind;

    ProcedureCommand(Map<String, String> env, Requests.Kind kind) {
        this.env = env;
        this.kind = kind;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String verb = kind.name().toLowerCase(Locale.ROOT);
        CutoverReport report = where.run(env,
                server -> CutoverReport.of(server.post("/api/v1/migrations/" + migrationId + "/" + verb, null)
                        .path("report")),
                cs -> new MigrationControl(cs, env::get).procedure(migrationId, kind, MigrateCommand.actor(),
                        Duration.ofSeconds(120)));
        if (json) {
            out.println(report.toJson().toPrettyString());
        }
        if (!report.completed()) {
            throw TandemException.badState("the " + verb + " of migration " + migrationId + " failed at step "
                    + report.failedStep() + ": " + report.error());
        }
        if (json) {
            return 0;
        }
        out.println("Migration " + migrationId + ": " + verb + " completed.");
        for (CutoverReport.Step s : report.steps()) {
            out.printf(Locale.ROOT, "  %-24s %8.1f ms%n", s.step(), s.ms());
        }
        if (report.freeze() != null && report.freeze().freezeMs() != null) {
            List<String> routers = report.freeze().routers();
            out.printf(Locale.ROOT, "Writes frozen %.1f ms (%d routers%s).%n", report.freeze().freezeMs(),
                    routers.size(), routers.isEmpty() ? "" : ": " + String.join(", ", routers.subList(0,
                    Math.min(10, routers.size()))) + (routers.size() > 10 ? " and " + (routers.size() - 10)
                    + " more" : ""));
        }
        if (report.writePause() != null) {
            var w = report.writePause();
            out.printf(Locale.ROOT, "Write pause over %d blocked transactions: p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
                    + "%d hit the freeze timeout.%n", w.blockedTransactions(), w.p50Ms(), w.p99Ms(), w.maxMs(),
                    w.timeouts());
        }
        return 0;
    }

    @Command(name = "cutover", header = "Cut a migration over to the target with a sub-second write freeze.",
            mixinStandardHelpOptions = true, description = {"Freezes writes through the routers (each acknowledges "
            + "once its write transactions drained), waits for lag 0 at the frozen position, compares the rows "
            + "applied since the last check, sets the target's sequences past the source's, opens the reverse "
            + "stream (target → source) and flips routing to the target. Any step failing returns routing to the "
            + "source and names the step.", "",
            "Exit codes: 0 cut over, 3 a gate does not hold or a step failed (routing is back on the source)."})
    static final class Cutover extends ProcedureCommand {
        Cutover(Map<String, String> env) {
            super(env, Requests.Kind.CUTOVER);
        }
    }

    @Command(name = "rollback", header = "Roll a cut over migration back to the source, losing no write.",
            mixinStandardHelpOptions = true, description = {"Freezes writes through the routers, waits until the "
            + "reverse stream applied every write the target took, sets the source's sequences past the target's, "
            + "flips routing back to the source: rolling_back, then rolled_back. Before a cutover use tandem abort.",
            "", "Exit codes: 0 rolled back, 3 not cut over or a step failed (routing stays on the target)."})
    static final class Rollback extends ProcedureCommand {
        Rollback(Map<String, String> env) {
            super(env, Requests.Kind.ROLLBACK);
        }
    }

    @Command(name = "cleanup", header = "After the confidence window: drop the streams, archive the audit, complete.",
            mixinStandardHelpOptions = true, description = {"Rollback is no longer possible afterwards.", "",
            "Exit codes: 0 completed, 3 not cut over."})
    static final class Cleanup extends ProcedureCommand {
        Cleanup(Map<String, String> env) {
            super(env, Requests.Kind.CLEANUP);
        }
    }
}
