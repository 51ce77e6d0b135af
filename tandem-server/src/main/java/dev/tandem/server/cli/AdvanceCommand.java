package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.migrate.PhaseGates;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import dev.tandem.server.wire.Json;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem advance ID [--to PHASE]}: seed 001's advance, only when the gate of the current phase holds. */
@Command(name = "advance", header = "Move a running migration to its next phase, if the phase's gate holds.",
        mixinStandardHelpOptions = true,
        description = {"Gates: leaving the copy needs every chunk copied (the migration moves to catch_up by itself "
                + "then); leaving catch_up needs the stream running with lag under abort_thresholds.lag_seconds (at "
                + "most 60 s) and the newest verification without unrepaired differences. Into cutover or cleanup "
                + "it runs the procedure as tandem cutover / tandem cleanup do (and prints its report).", "",
                "Exit codes: 0 advanced, 3 a gate does not hold (it says which, what it expects and what it found)."})
final class AdvanceCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;

    @Option(names = "--to", paramLabel = "PHASE", description = "A later phase than the next one.")
    String to;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    AdvanceCommand(Map<String, String> env) {
        this.env = env;
    }

    private Phase phase() {
        if (to == null) {
            return null;
        }
        try {
            return Phase.fromWire(to);
        } catch (IllegalArgumentException e) {
            throw TandemException.badInput("--to " + to + ": not a phase; use one of prepare, backfill, catch_up, "
                    + "shadow, cutover, cleanup");
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Phase phase = phase();
        return where.run(env, server -> {
            ObjectNode body = Json.MAPPER.createObjectNode();
            if (phase != null) {
                body.put("phase", phase.wire());
            }
            var d = server.post("/api/v1/migrations/" + migrationId + "/advance", body);
            out.println("Migration " + migrationId + ": " + d.path("status").asText() + " (phase "
                    + d.path("phase").asText() + ").");
            return 0;
        }, cs -> {
            MigrationRecord r = cs.migrations().get(migrationId);
            var m = cs.migrations().manifest(r, env::get, ManifestReader.Purpose.RUN).manifest();
            Phase next = phase != null ? phase : PhaseGates.next(r.status().phase(), m);
            boolean cutover = next == Phase.CUTOVER && r.status().phase().isBefore(Phase.CUTOVER);
            if (cutover || next == Phase.CLEANUP && r.status().phase() == Phase.CUTOVER) {
                var report = new MigrationControl(cs, env::get).procedure(migrationId, cutover ? Requests.Kind.CUTOVER
                        : Requests.Kind.CLEANUP, MigrateCommand.actor(), java.time.Duration.ofSeconds(120));
                if (!report.completed()) {
                    throw TandemException.badState("the " + report.procedure() + " of migration " + migrationId
                            + " failed at step " + report.failedStep() + ": " + report.error());
                }
                MigrationRecord done = cs.migrations().get(migrationId);
                out.println("Migration " + migrationId + ": " + done.status().state().wire() + " (phase "
                        + done.status().phase().wire() + ").");
                return 0;
            }
            MigrationRecord done = new PhaseGates(cs).advance(r, m, phase, MigrateCommand.actor());
            out.println("Migration " + migrationId + ": " + done.status().state().wire() + " (phase "
                    + done.status().phase().wire() + ").");
            return 0;
        });
    }
}
