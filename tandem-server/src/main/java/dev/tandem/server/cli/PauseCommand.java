package dev.tandem.server.cli;

import dev.tandem.core.engine.MigrationControl;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem pause ID}: a running migration stops where it is and stays resumable. */
@Command(name = "pause", header = "Pause a running migration (tandem resume continues it).",
        mixinStandardHelpOptions = true,
        description = "Through a server (--server) it stops at once whatever the phase (chunks in flight roll back). "
                + "Locally it asks the process that runs it (tandem migrate) to stop after its current batch, as "
                + "tandem stop does.")
final class PauseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;

    @Mixin
    StoreOption store;

    @Mixin
    Remote remote;

    private final Map<String, String> env;

    PauseCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Optional<Remote.Client> server = remote.client(env);
        if (server.isPresent()) {
            var d = server.get().post("/api/v1/migrations/" + migrationId + "/pause", null);
            out.println("Migration " + migrationId + ": " + d.path("status").asText() + " (phase "
                    + d.path("phase").asText() + "). Continue with: tandem resume " + migrationId + " --server "
                    + server.get().base());
            return 0;
        }
        try (ControlStore cs = store.openExisting(env)) {
            cs.migrations().get(migrationId);
            if (cs.leases().liveHolder(migrationId).isEmpty()) {
                throw TandemException.badState("no process is working on migration " + migrationId + " (state "
                        + cs.migrations().get(migrationId).status() + "); expected a running tandem migrate, actual "
                        + "none");
            }
            new MigrationControl(cs, env::get).requestStopAndWait(migrationId, Requests.Kind.STOP,
                    MigrateCommand.actor(), 60);
            out.println("Migration " + migrationId + ": " + cs.migrations().get(migrationId).status()
                    + ". Continue with: tandem resume " + migrationId);
            return 0;
        }
    }
}
