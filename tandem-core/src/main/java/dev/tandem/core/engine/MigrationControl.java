package dev.tandem.core.engine;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Operator actions on a migration that some other process (or thread) may be running: stop it, abort it. Shared by
 * the CLI ({@code tandem stop}, {@code tandem abort}) and the REST control plane; the process holding the
 * migration's lease is reached through the store ({@link Requests}), wherever it runs.
 */
public final class MigrationControl {
    private final ControlStore store;
    private final Function<String, String> env;

    /** @param env resolves the {@code ${env:...}} references of stored manifests */
    public MigrationControl(ControlStore store, Function<String, String> env) {
        this.store = store;
        this.env = env;
    }

    /** Leaves a stop request for the lease holder and waits until it gave the migration's lease back. */
    public void requestStopAndWait(String migrationId, Requests.Kind kind, String actor, int seconds)
            throws InterruptedException {
        String holder = store.leases().liveHolder(migrationId).orElse(null);
        store.requests().request(migrationId, kind, actor);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (store.leases().liveHolder(migrationId).isPresent()) {
            if (System.nanoTime() > deadline) {
                throw TandemException.badState("migration " + migrationId + " is still held by " + holder + " after "
                        + seconds + " s; expected it to stop. The request stays pending: check that process");
            }
            Thread.sleep(200);
        }
    }

    /**
     * Abandons a migration before cutover: a process working on it is stopped at once; the change stream's slot and
     * publication are dropped on the source (it retains no WAL for it); rolling_back → rolled_back. Target tables
     * are left as they are.
     *
     * @param say one line per step, for the operator
     */
    public MigrationRecord abort(String migrationId, String actor, String why, Consumer<String> say)
            throws InterruptedException {
        MigrationRecord r = store.migrations().get(migrationId);
        Optional<String> holder = store.leases().liveHolder(migrationId);
        if (holder.isPresent()) {
            say.accept("Stopping " + holder.get() + " ...");
            requestStopAndWait(migrationId, Requests.Kind.STOP_IMMEDIATE, actor, 60);
            r = store.migrations().get(migrationId);
        }
        if (r.status().state() != MigrationState.ROLLING_BACK) {
            store.migrations().transition(migrationId, LifecycleEvent.ABORT, null, actor, why);
        }
        if (store.positions().find(migrationId, ChangeStreamRunner.FORWARD).isPresent()) {
            Manifest m = new ManifestReader(env).document(r.manifest(), "the stored manifest of " + migrationId,
                    ManifestReader.Purpose.RUN).manifest();
            String name = ChangeStreamRunner.streamName(migrationId);
            try {
                Connector source = ConnectorRegistry.load().select(m.source(), "source");
                Optional<ChangeCapture> capture = source.changeCapture();
                if (capture.isPresent()) {
                    try (Connection c = source.connect()) {
                        capture.get().drop(c, name);
                    }
                    say.accept("Dropped the change stream " + name + " (slot and publication) on the source.");
                }
                if (m.cdc().apply() == Cdc.Apply.SOURCE_TRANSACTIONS) {
                    ChangeStreamRunner.forgetAppliedPosition(ConnectorRegistry.load().select(m.target(), "target"),
                            name);
                }
            } catch (SQLException e) {
                throw new TandemException(ErrorCode.SOURCE, "migration " + migrationId + " is rolling_back, but "
                        + "dropping its slot and publication " + name + " failed: " + m.source().scrub(
                        e.getMessage()) + "; fix the cause and abort again, or drop them yourself: SELECT "
                        + "pg_drop_replication_slot('" + name + "'); DROP PUBLICATION " + name + ";", e);
            }
        }
        return store.migrations().transition(migrationId, LifecycleEvent.ROLLBACK_DONE, null, actor,
                "nothing routed to the target before cutover; stream dropped");
    }
}
