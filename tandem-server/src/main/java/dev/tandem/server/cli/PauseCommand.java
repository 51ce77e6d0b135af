package dev.tandem.server.cli;

import java.util.Map;
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
    RemoteOrLocal where;

    private final Map<String, String> env;

    PauseCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        return StopCommand.stop(new StopCommand.Stop("pause", migrationId, false, 60), where, env,
                spec.commandLine().getOut());
    }
}
