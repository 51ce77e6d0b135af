package dev.tandem.core.migrate;

import dev.tandem.core.backfill.BackfillResult;
import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.SchemaStop;
import dev.tandem.core.cdc.SchemaWatch;
import dev.tandem.core.cdc.StreamFailure;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import dev.tandem.core.manifest.Enums;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.verify.ContinuousVerifier;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One process's run of one migration, handed from phase to phase: the store, what moves ({@link Tables}: manifest,
 * connectors, tables), who listens, what the operator asked, the stop signal, and what outlives a phase — the forward
 * stream (opened for the copy, streaming on into catch-up), the reverse stream after a cutover, continuous
 * verification, the copy's result and the schema changes made. The truth stays in the store: the runner re-reads
 * the migration's status every turn; this holds only what cannot be stored (running streams, connections).
 */
final class RunContext implements AutoCloseable {
    final ControlStore store;
    /** What moves; described again when a schema change was applied while streaming ({@link Tables#reread}). */
    Tables tables;
    final MigrationListener listener;
    final RunOptions options;
    final StopSignal stop;
    final List<String> schemaActions = new ArrayList<>();
    /** The manifest as stored now: the policies a PATCH may change while the migration runs. */
    final LivePolicies policies;
    /** The forward stream while it runs in this process; null before it is built and after the cutover. */
    ChangeStreamRunner forward;
    /** The reverse stream after the cutover. */
    ChangeStreamRunner reverse;
    /** Continuous verification while it runs. */
    ContinuousVerifier verifier;
    /** The copy this process ran, if it ran one. */
    BackfillResult copied;
    /** How the streams stop at the end: roll the batch in flight back (an abort, an immediate stop) or finish it. */
    boolean rollBackInFlight;

    RunContext(ControlStore store, Tables tables, LivePolicies policies, MigrationListener listener,
               RunOptions options, StopSignal stop) {
        this.store = store;
        this.tables = tables;
        this.policies = policies;
        this.listener = listener;
        this.options = options;
        this.stop = stop;
    }

    String id() {
        return tables.manifest().id();
    }

    Manifest manifest() {
        return tables.manifest();
    }

    Connector source() {
        return tables.source();
    }

    Connector target() {
        return tables.target();
    }

    String actor() {
        return options.actor();
    }

    void say(String line) {
        listener.line(line);
    }

    /** The migration's status as the store has it now. */
    Status status() {
        return store.migrations().get(id()).status();
    }

    Status transition(LifecycleEvent event, Phase to, String detail) {
        return store.migrations().transition(id(), event, to, actor(), detail).status();
    }

    /** How the run ends: the status now, with what was copied and changed. */
    MigrationOutcome outcome(ErrorCode failure, String message) {
        return new MigrationOutcome(id(), status(), copied, schemaActions, failure, message);
    }

    /** Stopped by the operator: paused, continued by running the migration again. */
    MigrationOutcome paused(String next) {
        Status s = store.migrations().transition(id(), LifecycleEvent.PAUSE, null, "operator", stop.why()).status();
        return new MigrationOutcome(id(), s, copied, schemaActions, null, "interrupted" + next, true);
    }

    /**
     * The stream stopped by itself: the migration fails, with the side that failed as the exit code (4 the source,
     * 5 the target) and {@code fix} when it can resume from its confirmed position. When it cannot (its slot is gone)
     * it says so and names the way out instead of promising a resume.
     */
    MigrationOutcome streamFailed(StreamFailure failure, String fix) {
        if (failure.schemaStop().isPresent()) {
            return schemaStopped(failure.schemaStop().get());
        }
        Manifest m = manifest();
        String why = m.target().scrub(m.source().scrub(String.valueOf(failure.message())));
        String side = failure.side() == Role.SOURCE ? "source" : "target";
        ErrorCode code = failure.side() == Role.SOURCE ? ErrorCode.SOURCE : ErrorCode.TARGET;
        String what = switch (failure.kind()) {
            case APPLY -> "the change stream stopped: applying to the " + side + " failed: " + why + ". " + fix;
            case SOURCE_LOST -> "the change stream stopped: " + why + ". " + fix;
            case READ_FAILED, SCHEMA_CHANGE -> "the change stream stopped: the " + side + " refused it: " + why
                    + ". " + fix;
            case STREAM_GONE -> "the change stream cannot resume: " + why + ". The changes after its confirmed "
                    + "position " + store.positions().find(id(), failure.direction()).map(p -> p.confirmed())
                    .orElse("(none)") + " are no longer kept for it, so "
                    + (failure.direction() == StreamDirection.FORWARD ? "the target cannot be shown to hold them. "
                    + "Way out: tandem abort " + id() + ", then migrate again (the copy starts over)"
                    : "a rollback can no longer be shown to lose nothing. Way out: stay on the target (tandem "
                    + "cleanup " + id() + ")");
        };
        transition(LifecycleEvent.FAIL, null, "change stream stopped (" + side + "): " + why);
        return outcome(code, what);
    }

    /**
     * The stream stopped for a schema change on the source (DESIGN.md correctness point 6), before the first change of
     * the new shape: an alert fires (once while it stays open), and by {@code cdc.on_schema_change} the migration
     * pauses — {@code tandem resume} continues from the confirmed position once the target takes the new shape —
     * or aborts.
     */
    private MigrationOutcome schemaStopped(SchemaStop s) {
        Manifest m = manifest();
        String policy = "cdc.on_schema_change: " + Enums.wire(s.policy());
        String why = m.source().scrub(m.target().scrub(s.getMessage()));
        String todo = String.join("; ", s.fix());
        boolean open = store.alerts().list(id(), true).stream().anyMatch(a -> a.name().equals(SchemaWatch.ALERT)
                && why.equals(a.message()));
        if (!open) {
            String observed = "table=" + s.table() + (s.position() == null ? "" : ", position=" + s.position());
            store.alerts().fire(id(), SchemaWatch.ALERT, "high", policy, why, observed);
            listener.alert(new AlertEvent(SchemaWatch.ALERT, "high", true, policy, why, observed));
        }
        rollBackInFlight = true;
        if (forward != null) {
            forward.stop(true);
        }
        if (s.aborts()) {
            say("ABORTING (" + policy + "): " + why);
            try {
                new MigrationControl(store).abandon(m, "tandem (" + policy + ")", why, this::say);
            } catch (TandemException e) {
                return outcome(ErrorCode.BAD_STATE, why + "; " + e.getMessage());
            }
            return outcome(ErrorCode.BAD_STATE, why + "; the migration was aborted (" + policy + "): its change "
                    + "stream was dropped, the target's tables were left as they are");
        }
        transition(LifecycleEvent.PAUSE, null, "schema change (" + policy + "): " + why);
        return outcome(ErrorCode.BAD_STATE, "the change stream stopped for a schema change on the source: " + why
                + ". Nothing from that change on is applied or confirmed; the migration is paused (" + policy
                + "). Run on the target: " + todo + "; then continue with: tandem resume " + id()
                + " (it resumes from the confirmed position)");
    }

    /**
     * The forward stream, built (not started), with {@code failure_handling}: tables given up by this or an earlier
     * run stay skipped; a table given up now is recorded (and audited) before the listener hears of it.
     */
    ChangeStreamRunner forwardStream() throws SQLException {
        Manifest m = manifest();
        ChangeStreamRunner stream = ChangeStreamRunner.forward(store, tables, this::say);
        Set<String> givenUp = new TreeSet<>();
        store.failedTables().list(m.id()).forEach(f -> givenUp.add(f.table()));
        stream.applier().failureHandling(m.failureHandling(), givenUp, (table, why) -> {
            store.failedTables().record(m.id(), table, why);
            store.audit().record(m.id(), "tandem (failure_handling: allow_partial)", "table_failed",
                    table + ": " + why);
            listener.tableGivenUp(table, why);
        });
        return stream;
    }

    /** The forward stream's confirmed position, for people. */
    String position() {
        return store.positions().find(id(), StreamDirection.FORWARD).map(p -> "position " + p.confirmed())
                .orElse("the start");
    }

    /** Stops what still runs: the streams (their positions stay confirmed) and continuous verification. */
    @Override
    public void close() {
        if (verifier != null) {
            verifier.close();
            verifier = null;
        }
        if (forward != null) {
            forward.stop(rollBackInFlight);
        }
        if (reverse != null) {
            reverse.stop(rollBackInFlight);
        }
    }
}
