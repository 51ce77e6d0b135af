package dev.tandem.server.cli;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
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
    StoreOption store;

    private final Map<String, String> env;

    AbortCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String actor = MigrateCommand.actor();
        try (ControlStore cs = store.openExisting(env)) {
            MigrationRecord r = cs.migrations().get(migrationId);
            Optional<String> holder = cs.leases().liveHolder(migrationId);
            if (holder.isPresent()) {
                out.println("Stopping " + holder.get() + " ...");
                out.flush();
                StopCommand.requestAndWait(cs, migrationId, holder.get(), Requests.Kind.STOP_IMMEDIATE, 60);
                r = cs.migrations().get(migrationId);
            }
            if (r.status().state() != dev.tandem.core.lifecycle.MigrationState.ROLLING_BACK) {
                cs.migrations().transition(migrationId, LifecycleEvent.ABORT, null, actor, "tandem abort");
            }
            if (cs.positions().find(migrationId, ChangeStreamRunner.FORWARD).isPresent()) {
                Manifest m = new ManifestReader(env::get).document(r.manifest(), "the stored manifest of "
                        + migrationId, ManifestReader.Purpose.RUN).manifest();
                String name = ChangeStreamRunner.streamName(migrationId);
                try {
                    Connector source = ConnectorRegistry.load().select(m.source(), "source");
                    Optional<ChangeCapture> capture = source.changeCapture();
                    if (capture.isPresent()) {
                        try (Connection c = source.connect()) {
                            capture.get().drop(c, name);
                        }
                        out.println("Dropped the change stream " + name + " (slot and publication) on the source.");
                    }
                    if (m.cdc().apply() == Cdc.Apply.SOURCE_TRANSACTIONS) {
                        ChangeStreamRunner.forgetAppliedPosition(ConnectorRegistry.load().select(m.target(), "target"),
                                name);
                    }
                } catch (SQLException e) {
                    throw new TandemException(ErrorCode.SOURCE, "migration " + migrationId + " is rolling_back, but "
                            + "dropping its slot and publication " + name + " failed: " + m.source().scrub(
                            e.getMessage()) + "; fix the cause and run tandem abort " + migrationId + " again, or "
                            + "drop them yourself: SELECT pg_drop_replication_slot('" + name + "'); DROP PUBLICATION "
                            + name + ";", e);
                }
            }
            var done = cs.migrations().transition(migrationId, LifecycleEvent.ROLLBACK_DONE, null, actor,
                    "nothing routed to the target before cutover; stream dropped").status();
            out.println("Migration " + migrationId + ": " + done.state().wire() + ". The target's tables were left "
                    + "as they are.");
            return 0;
        }
    }
}
