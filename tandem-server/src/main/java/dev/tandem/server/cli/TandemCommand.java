package dev.tandem.server.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The root command: prints help when run alone. */
@Command(name = "tandem",
        mixinStandardHelpOptions = true,
        versionProvider = TandemCommand.Version.class,
        subcommands = {PlanCommand.class, MigrateCommand.class, StatusCommand.class, RunsCommand.class,
                ChunksCommand.class, ThrottleCommand.class, LagCommand.class, StopCommand.class, AbortCommand.class,
                AdvanceCommand.class, PauseCommand.class, ResumeCommand.class, VerifyCommand.class,
                ProcedureCommand.Cutover.class, ProcedureCommand.Rollback.class, ProcedureCommand.Cleanup.class,
                ServerCommand.class, DemoCommand.class},
        description = {
                "Moves a live database to a new one with zero downtime and zero divergence: copy what exists, stream "
                        + "what changes, prove both sides equal, shift traffic, cut over, roll back if needed.",
                "",
                "Start with 'tandem demo' to see it on an embedded PostgreSQL, or 'tandem plan -f manifest.yaml' to "
                        + "check a migration of your own."},
        footer = {"", "Exit codes: 0 ok, 1 drift found, 2 bad input, 3 bad state, 4 source problem, 5 target problem.",
                "Manifest reference and examples: README.md."})
public final class TandemCommand implements Runnable {
    @Spec
    CommandSpec spec;

    TandemCommand(Map<String, String> env) {
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar's manifest (the build's project version). */
    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = TandemCommand.class.getPackage().getImplementationVersion();
            return new String[] {"tandem " + (v == null ? "(development build)" : v)};
        }
    }
}
