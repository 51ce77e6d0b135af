package dev.tandem.server.cli;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.store.Requests;
import java.io.PrintWriter;
import java.util.Map;
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
    RemoteOrLocal where;

    private final Map<String, String> env;

    StopCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        return stop(new Stop("stop", migrationId, immediate, waitSeconds), where, env, spec.commandLine().getOut());
    }

    /**
     * @param verb the REST operation used through a server: {@code stop} or {@code pause}
     */
    record Stop(String verb, String migrationId, boolean immediate, int waitSeconds) {
    }

    /**
     * Stops (or pauses: the same thing) the migration: through a server with {@code --server}, else by asking the
     * process that holds it to stop and waiting until it let go. Shared by {@code tandem stop} and {@code tandem pause}.
     */
    static int stop(Stop stop, RemoteOrLocal where, Map<String, String> env, PrintWriter out) throws Exception {
        String id = stop.migrationId();
        return where.run(env, server -> {
            var d = server.post("/api/v1/migrations/" + id + "/" + stop.verb()
                    + (stop.immediate() ? "?immediate=true" : ""), null);
            out.println("Migration " + id + ": " + d.path("status").asText() + " (phase " + d.path("phase").asText()
                    + "). Continue with: tandem resume " + id + " --server " + server.base());
            return 0;
        }, cs -> {
            cs.migrations().get(id);
            String holder = cs.leases().liveHolder(id).orElseThrow(() -> TandemException.badState("no process is "
                    + "working on migration " + id + " (state " + cs.migrations().get(id).status() + "); expected a "
                    + "running tandem migrate, actual none"));
            out.println("Asking " + holder + " to stop" + (stop.immediate() ? " at once" : " after its current batch")
                    + "; waiting ...");
            out.flush();
            new MigrationControl(cs, env::get).requestStopAndWait(id, stop.immediate() ? Requests.Kind.STOP_IMMEDIATE
                    : Requests.Kind.STOP, MigrateCommand.actor(), stop.waitSeconds());
            out.println("Migration " + id + ": " + cs.migrations().get(id).status() + ". Continue with: tandem resume "
                    + id + " (or tandem migrate -f MANIFEST)");
            return 0;
        });
    }
}
