package dev.tandem.core.migrate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cutover.CutoverReport;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import dev.tandem.core.store.StreamDirection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
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

    /** For a process that holds the migration's manifest itself ({@link #abandon}): no stored manifest is read. */
    MigrationControl(ControlStore store) {
        this(store, name -> {
            throw new IllegalStateException("no environment to read the stored manifest with");
        });
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
     * Asks the process streaming the migration to run a procedure — {@link Requests.Kind#CUTOVER} (from catch_up or
     * shadow, gates checked here), {@link Requests.Kind#ROLLBACK} or {@link Requests.Kind#CLEANUP} (after a cutover)
     * — and waits for its outcome: the cutover's or rollback's report (steps, write pause; {@code outcome} completed
     * or failed), or for cleanup the completed migration's status.
     *
     * @throws TandemException BAD_STATE when the migration is not where the procedure starts, or no process streams
     *                         it, or the outcome did not come within {@code timeout}
     */
    public CutoverReport procedure(String migrationId, Requests.Kind kind, String actor, Duration timeout)
            throws InterruptedException {
        MigrationRecord r = store.migrations().get(migrationId);
        String verb = kind.name().toLowerCase(Locale.ROOT);
        if (kind == Requests.Kind.CUTOVER) {
            new PhaseGates(store).checkCutover(r, manifest(r));
        } else if (r.status().state() != MigrationState.RUNNING || r.status().phase() != Phase.CUTOVER) {
            throw TandemException.badState("cannot " + verb + " migration " + migrationId + ": expected running in "
                    + "phase cutover (after tandem cutover), actual " + r.status()
                    + (kind == Requests.Kind.ROLLBACK ? "; before the cutover use tandem abort" : ""));
        }
        if (store.leases().liveHolder(migrationId).isEmpty()) {
            throw TandemException.badState("cannot " + verb + " migration " + migrationId + ": no process streams it "
                    + "now (state " + r.status() + "); resume it first (tandem resume " + migrationId + ", or run it "
                    + "in tandem server)");
        }
        Instant since = Instant.now().minusMillis(5);
        store.requests().request(migrationId, kind, actor);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (kind == Requests.Kind.CLEANUP) {
                MigrationRecord now = store.migrations().get(migrationId);
                if (now.status().state() == MigrationState.COMPLETED) {
                    return CutoverReport.cleanup(now.status().state().wire());
                }
            } else {
                JsonNode last = store.routing().get(migrationId).last();
                if (last != null && verb.equals(last.path("procedure").asText())
                        && !Instant.parse(last.path("at").asText()).isBefore(since)) {
                    return CutoverReport.of(last);
                }
            }
            store.awaitChange(50);
        }
        throw TandemException.badState("migration " + migrationId + ": the " + verb + " was requested but did not "
                + "finish within " + timeout.toSeconds() + " s; see tandem status " + migrationId);
    }

    private Manifest manifest(MigrationRecord r) {
        return store.migrations().manifest(r, env, ManifestReader.Purpose.RUN).manifest();
    }

    /**
     * Abandons a migration before cutover (tandem abort, DELETE through the API): a process working on it is stopped
     * at once, then {@link #abandon}. Refused once cut over (roll back instead).
     *
     * @param say one line per step, for the operator
     */
    public MigrationRecord abort(String migrationId, String actor, String why, Consumer<String> say)
            throws InterruptedException {
        MigrationRecord r = store.migrations().get(migrationId);
        if (r.status().phase() == Phase.CUTOVER && r.status().state() != MigrationState.ROLLING_BACK
                && store.routing().get(migrationId).cutOver()) {
            throw TandemException.badState("cannot abort migration " + migrationId + ": it is cut over to the target, "
                    + "which took writes the source does not have yet; roll back instead: tandem rollback "
                    + migrationId);
        }
        Optional<String> holder = store.leases().liveHolder(migrationId);
        if (holder.isPresent()) {
            say.accept("Stopping " + holder.get() + " ...");
            requestStopAndWait(migrationId, Requests.Kind.STOP_IMMEDIATE, actor, 60);
        }
        return abandon(manifest(store.migrations().get(migrationId)), actor, why, say);
    }

    /**
     * THE abort procedure, once nothing streams the migration any more (an operator's abort after stopping its
     * process, or the process itself when an abort threshold is crossed): rolling_back (audited with why), the
     * forward stream dropped on the source (slot and publication, so it retains no WAL; the target's applied-position
     * record), routing back to the source, rolled_back. Target tables are left as they are, for inspection.
     */
    public MigrationRecord abandon(Manifest m, String actor, String why, Consumer<String> say) {
        String migrationId = m.id();
        if (store.migrations().get(migrationId).status().state() != MigrationState.ROLLING_BACK) {
            store.migrations().transition(migrationId, LifecycleEvent.ABORT, null, actor, why);
        }
        if (m.cdc().enabled() && store.positions().find(migrationId, StreamDirection.FORWARD).isPresent()) {
            String name = Streams.name(migrationId, StreamDirection.FORWARD);
            try {
                Tables t = Tables.of(ConnectorRegistry.load(), m);
                Streams.dropForward(m, t.source(), t.target());
                say.accept("Dropped the change stream " + name + " on the source.");
            } catch (SQLException e) {
                throw new TandemException(ErrorCode.SOURCE, "migration " + migrationId + " is rolling_back, but "
                        + "dropping its change stream " + name + " failed: " + m.source().scrub(e.getMessage())
                        + "; fix the cause and abort again (tandem abort " + migrationId + "), or drop them "
                        + "yourself: SELECT pg_drop_replication_slot('" + name + "'); DROP PUBLICATION " + name + ";",
                        e);
            }
        }
        if (store.routing().find(migrationId).isPresent()) {
            store.routing().set(migrationId, store.routing().get(migrationId).frozen(false).cutOver(false), actor,
                    "abort: routing back to the source");
        }
        return store.migrations().transition(migrationId, LifecycleEvent.ROLLBACK_DONE, null, actor,
                "nothing routed to the target before cutover; stream dropped");
    }
}
