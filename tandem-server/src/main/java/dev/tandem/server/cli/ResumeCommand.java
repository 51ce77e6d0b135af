package dev.tandem.server.cli;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.store.MigrationRecord;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem resume ID}: continues a paused migration from the manifest stored with it. */
@Command(name = "resume", header = "Continue a paused migration (in the foreground, or on a server with --server).",
        mixinStandardHelpOptions = true,
        description = "Locally it runs like tandem migrate, from the manifest stored with the migration (its "
                + "${env:...} references are read from this environment): a copy continues with the chunks not yet "
                + "done, a stream from its confirmed position. Through a server the server runs it.")
final class ResumeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    ResumeCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return where.runCreating(env, server -> {
            var d = server.post("/api/v1/migrations/" + migrationId + "/resume", null);
            out.println("Migration " + migrationId + ": " + d.path("status").asText() + " (phase "
                    + d.path("phase").asText() + ") on " + server.base() + "; follow it with tandem status "
                    + migrationId + " --server " + server.base());
            return 0;
        }, cs -> {
            MigrationRecord r = cs.migrations().get(migrationId);
            if (r.status().state() != MigrationState.PAUSED) {
                throw TandemException.badState("cannot resume migration " + migrationId + ": expected state paused, "
                        + "actual " + r.status().state().wire());
            }
            ManifestDocument doc = cs.migrations().manifest(r, env::get, ManifestReader.Purpose.RUN);
            MigrationOutcome o = MigrateCommand.execute(cs, doc, new RunOptions(
                    MigrationRunner.runToContinue(cs, r), null, null, MigrateCommand.actor()), out,
                    System.console() != null);
            MigrateCommand.print(out, o);
            return o.exitCode();
        });
    }
}
