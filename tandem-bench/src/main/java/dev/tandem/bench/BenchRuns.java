package dev.tandem.bench;

import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.migrate.MigrationListener;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;

/** Running a migration in the benchmark's JVM, optionally stopped (as {@code tandem stop}) once it streams. */
final class BenchRuns {
    private BenchRuns() {
    }

    /**
     * Runs {@code doc} (migration {@code id}) silently; with {@code pauseInCatchUp} asks it to stop as soon as it
     * reaches catch-up, so its stream position holds everything written afterwards. Fails unless it completed (or
     * stopped, when asked to).
     */
    static MigrationOutcome migrate(ControlStore store, String id, ManifestDocument doc, boolean pauseInCatchUp) {
        Thread pauser = null;
        if (pauseInCatchUp) {
            pauser = new Thread(() -> {
                try {
                    while (store.migrations().find(id).map(r -> r.status().phase() != Phase.CATCH_UP).orElse(true)) {
                        Thread.sleep(50);
                    }
                    store.requests().request(id, Requests.Kind.STOP, "bench");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-pauser");
            pauser.setDaemon(true);
            pauser.start();
        }
        MigrationOutcome outcome = new MigrationRunner(store, ConnectorRegistry.load(), MigrationListener.lines(
                line -> { })).migrate(doc, new RunOptions(null, null, null, "bench"));
        if (pauser != null) {
            pauser.interrupt();
        }
        if (outcome.exitCode() != 0 && !(pauseInCatchUp && outcome.exitCode() == 130)) {
            throw new IllegalStateException("the migration " + id + " failed: " + outcome.message());
        }
        return outcome;
    }
}
