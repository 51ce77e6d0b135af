package dev.tandem.server.cli;

import dev.tandem.core.migrate.MigrationControl;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tandem abort MIGRATION_ID}: abandons a migration before cutover. A process working on it is stopped at
 * once; the change stream's slot and publication are dropped on the source (so it retains no WAL for it); the
 * migration goes rolling_back → rolled_back. Target tables are left as they are.
 */
@Command(name = "abort", header = "Abandon a migration: stop it, drop its slot and publication on the source.",
        mixinStandardHelpOptions = true,
        description = "Uses the manifest stored with the migration (its ${env:...} references are read from this "
                + "environment). The target's tables are left as they are; drop them yourself if you want them gone.")
final class AbortCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    AbortCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return where.run(env, server -> {
            var d = server.post("/api/v1/migrations/" + migrationId + "/abort", null);
            out.println("Migration " + migrationId + ": " + d.path("status").asText() + ". The target's tables were "
                    + "left as they are.");
            return 0;
        }, cs -> {
            var done = new MigrationControl(cs, env::get).abort(migrationId, MigrateCommand.actor(), "tandem abort",
                    line -> {
                        out.println(line);
                        out.flush();
                    }).status();
            out.println("Migration " + migrationId + ": " + done.state().wire() + ". The target's tables were left "
                    + "as they are.");
            return 0;
        });
    }
}
