package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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
    StoreOption store;

    @Mixin
    Remote remote;

    private final Map<String, String> env;
    private final Requests.Kind kind;

    ProcedureCommand(Map<String, String> env, Requests.Kind kind) {
        this.env = env;
        this.kind = kind;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String verb = kind.name().toLowerCase(Locale.ROOT);
        JsonNode report;
        Optional<Remote.Client> server = remote.client(env);
        if (server.isPresent()) {
            report = server.get().post("/api/v1/migrations/" + migrationId + "/" + verb, null).path("report");
        } else {
            try (ControlStore cs = store.openExisting(env)) {
                report = new MigrationControl(cs, env::get).procedure(migrationId, kind, MigrateCommand.actor(),
                        Duration.ofSeconds(120));
            }
            if (!"completed".equals(report.path("outcome").asText())) {
                if (json) {
                    out.println(report.toPrettyString());
                }
                throw TandemException.badState("the " + verb + " of migration " + migrationId + " failed at step "
                        + report.path("failed_step").asText() + ": " + report.path("error").asText());
            }
        }
        if (json) {
            out.println(report.toPrettyString());
            return 0;
        }
        out.println("Migration " + migrationId + ": " + verb + " completed.");
        for (JsonNode s : report.path("steps")) {
            out.printf(Locale.ROOT, "  %-24s %8.1f ms%n", s.path("step").asText(), s.path("ms").asDouble());
        }
        if (report.has("freeze_ms")) {
            out.printf(Locale.ROOT, "Writes frozen %.1f ms (%d routers).%n", report.path("freeze_ms").asDouble(),
                    report.path("routers").asInt());
        }
        JsonNode p = report.path("write_pause");
        if (!p.isMissingNode()) {
            out.printf(Locale.ROOT, "Write pause over %d blocked transactions: p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
                    + "%d hit the freeze timeout.%n", p.path("blocked_transactions").asLong(), p.path("p50_ms")
                    .asDouble(), p.path("p99_ms").asDouble(), p.path("max_ms").asDouble(), p.path("timeouts").asLong());
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
