package dev.tandem.server.cli;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem stop MIGRATION_ID [--immediate]}: seed 000's stop, for the process streaming the migration. */
@Command(name = "stop", header = "Stop a running migration: finish the batch being applied, then exit.",
        mixinStandardHelpOptions = true,
        description = {"The process working on the migration (tandem migrate) picks the request up within a second, "
                + "finishes the batch it is applying, records its position and exits; the migration is paused and "
                + "tandem migrate -f MANIFEST continues it. --immediate rolls the batch in flight back instead "
                + "(nothing is lost: it is streamed again on restart).",
                "Waits up to --wait seconds for the process to exit."})
final class StopCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;

    @Option(names = "--immediate", description = "Stop at once; the batch in flight rolls back.")
    boolean immediate;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for the process to exit (default ${DEFAULT-VALUE}).")
    int waitSeconds;

    @Mixin
    StoreOption store;

    @Mixin
    Remote remote;

    private final Map<String, String> env;

    StopCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws InterruptedException {
        return stop("stop", migrationId, immediate, waitSeconds, remote, store, env, spec.commandLine().getOut());
    }

    /**
     * Stops (or pauses: the same thing) the migration: through a server with {@code --server}, else by asking the
     * process that holds it to stop and waiting until it let go. Shared by {@code tandem stop} and {@code tandem pause}.
     *
     * @param verb {@code stop} or {@code pause}, the REST operation used through a server
     */
    static int stop(String verb, String migrationId, boolean immediate, int waitSeconds, Remote remote,
                    StoreOption store, Map<String, String> env, PrintWriter out) throws InterruptedException {
        Optional<Remote.Client> server = remote.client(env);
        if (server.isPresent()) {
            var d = server.get().post("/api/v1/migrations/" + migrationId + "/" + verb
                    + (immediate ? "?immediate=true" : ""), null);
            out.println("Migration " + migrationId + ": " + d.path("status").asText() + " (phase "
                    + d.path("phase").asText() + "). Continue with: tandem resume " + migrationId + " --server "
                    + server.get().base());
            return 0;
        }
        try (ControlStore cs = store.openExisting(env)) {
            cs.migrations().get(migrationId);
            String holder = cs.leases().liveHolder(migrationId).orElseThrow(() -> TandemException.badState(
                    "no process is working on migration " + migrationId + " (state " + cs.migrations().get(migrationId)
                            .status() + "); expected a running tandem migrate, actual none"));
            out.println("Asking " + holder + " to stop" + (immediate ? " at once" : " after its current batch")
                    + "; waiting ...");
            out.flush();
            new MigrationControl(cs, env::get).requestStopAndWait(migrationId, immediate ? Requests.Kind.STOP_IMMEDIATE
                    : Requests.Kind.STOP, MigrateCommand.actor(), waitSeconds);
            out.println("Migration " + migrationId + ": " + cs.migrations().get(migrationId).status()
                    + ". Continue with: tandem resume " + migrationId + " (or tandem migrate -f MANIFEST)");
            return 0;
        }
    }
}
