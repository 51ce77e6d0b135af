package dev.tandem.server.cli;

import dev.tandem.core.store.ControlStore;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem throttle RUN_ID ROWS_PER_SECOND}: changes a running copy's speed limit. */
@Command(name = "throttle", header = "Change a run's copy speed limit while it runs (rows per second, 0 = none).",
        mixinStandardHelpOptions = true,
        description = "All workers of the run share the limit; they pick up a change within a second.")
final class ThrottleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN_ID")
    long runId;

    @Parameters(index = "1", paramLabel = "ROWS_PER_SECOND")
    long rowsPerSecond;

    @Mixin
    StoreOption store;

    private final Map<String, String> env;

    ThrottleCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        try (ControlStore cs = store.openExisting(env)) {
            cs.runs().setThrottle(runId, rowsPerSecond);
        }
        spec.commandLine().getOut().println("Run " + runId + ": " + (rowsPerSecond == 0 ? "no limit"
                : String.format(java.util.Locale.ROOT, "at most %,d rows/s", rowsPerSecond)) + " from now on.");
        return 0;
    }
}
