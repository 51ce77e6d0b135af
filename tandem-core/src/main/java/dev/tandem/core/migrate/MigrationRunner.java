package dev.tandem.core.migrate;

import dev.tandem.core.cutover.Recovery;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Status;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Leases;
import dev.tandem.core.store.MigrationRecord;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code tandem migrate}: takes one migration through its phases — prepare, backfill, catch-up, and after a cutover
 * the reverse stream until a rollback or a cleanup. Every step is recorded in the control store before it is relied
 * on, so a run killed at any point continues: the lifecycle says which phase is done, chunk statuses say which rows
 * are on the target, the streams' confirmed positions say which changes are. One process at a time holds a migration
 * (its lease); a killed one's lease goes stale in 30 s (at once on the same host).
 * <p>This is a thin loop: {@link Admission} registers the migration and runs preflight, then each turn re-reads the
 * migration's status from the store and hands the {@link RunContext} to the phase it names — {@link SchemaStep}
 * (prepare), {@link BackfillPhase}, {@link CatchUpPhase} (catch-up and shadow, where a cutover runs),
 * {@link AfterCutoverPhase} — until one of them ends the run with an outcome.
 */
public final class MigrationRunner {
    private final ControlStore store;
    private final ConnectorRegistry registry;
    private final MigrationListener listener;
    private final StopSignal stop = new StopSignal();
    private final SchemaStep schema = new SchemaStep();
    private final BackfillPhase backfill = new BackfillPhase(schema);
    private final CatchUpPhase catchUp = new CatchUpPhase(schema);
    private final AfterCutoverPhase afterCutover = new AfterCutoverPhase();

    public MigrationRunner(ControlStore store, ConnectorRegistry registry, MigrationListener listener) {
        this.store = store;
        this.registry = registry;
        this.listener = listener;
    }

    /**
     * The run a continuation of {@code r} redoes: its newest backfill run while the copy is not done, else none (see
     * {@link Admission#runToContinue}).
     */
    public static Long runToContinue(ControlStore store, MigrationRecord r) {
        return Admission.runToContinue(store, r);
    }

    /** Stops a running migration from another thread (Ctrl-C): chunks in flight roll back; state becomes paused. */
    public void stop() {
        stop("interrupted (Ctrl-C)", false);
    }

    /**
     * As {@link #stop()}, with the reason the pause is audited with (e.g. the server shutting down); with
     * {@code immediate} a change stream rolls its batch in flight back instead of finishing it.
     */
    public void stop(String why, boolean immediate) {
        stop.request(why, immediate);
    }

    public MigrationOutcome migrate(ManifestDocument doc, RunOptions opts) {
        Manifest m = doc.manifest();
        Admission admission = new Admission(store, registry, listener::line);
        Admission.Admitted admitted = admission.admit(doc, opts);
        String owner = Leases.ownerForThisProcess();
        store.leases().acquire(m.id(), owner);
        AtomicBoolean released = new AtomicBoolean();
        Thread heartbeat = heartbeat(m.id(), owner, released);
        try {
            admission.preflight(m, admitted.record(), admitted.options());
            Tables tables = Tables.of(registry, m);
            admission.start(m.id(), admitted.record().status(), admitted.options().actor());
            try (RunContext ctx = new RunContext(store, tables, new LivePolicies(store, doc, listener::line),
                    listener, admitted.options(), stop)) {
                return run(ctx);
            }
        } finally {
            released.set(true);
            heartbeat.interrupt();
            store.leases().release(m.id(), owner);
        }
    }

    /** The phase loop: the status is re-read from the store every turn; a phase ends the run or moves it on. */
    private MigrationOutcome run(RunContext ctx) {
        try {
            recover(ctx);
            while (true) {
                Status s = ctx.status();
                if (s.state() != MigrationState.RUNNING) {
                    return ctx.outcome(null, "the migration is " + s);
                }
                Optional<MigrationOutcome> done = switch (s.phase()) {
                    case PREPARE -> schema.prepare(ctx);
                    case BACKFILL -> backfill.run(ctx);
                    case CATCH_UP, SHADOW -> catchUp.run(ctx);
                    case CUTOVER -> afterCutover.run(ctx);
                    case CLEANUP -> Optional.of(ctx.outcome(null, "the migration is in cleanup"));
                };
                if (done.isPresent()) {
                    return done.get();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ctx.rollBackInFlight = true;
            Status s = store.migrations().transition(ctx.id(), LifecycleEvent.PAUSE, null, "operator", "interrupted")
                    .status();
            return new MigrationOutcome(ctx.id(), s, ctx.copied, ctx.schemaActions, null, "interrupted", true);
        } catch (SQLException e) {
            Manifest m = ctx.manifest();
            ctx.transition(LifecycleEvent.FAIL, null, e.getMessage());
            throw new TandemException(ErrorCode.TARGET, "preparing the tables failed: " + m.target().scrub(
                    m.source().scrub(e.getMessage())) + "; run the migration again once fixed", e);
        } catch (TandemException e) {
            if (ctx.status().state() == MigrationState.RUNNING) {
                ctx.transition(LifecycleEvent.FAIL, null, e.getMessage());
            }
            throw e;
        }
    }

    /** A cutover or rollback killed midway: routing where the phase says (see {@link Recovery}). */
    private void recover(RunContext ctx) throws SQLException {
        if (ctx.status().phase() == dev.tandem.core.lifecycle.Phase.PREPARE) {
            return; // no target tables yet, and nothing a procedure could have left
        }
        String recovered = Recovery.recover(store, ctx.tables, ctx.status().phase(), ctx.actor());
        if (recovered != null) {
            listener.line(recovered);
        }
    }

    /**
     * Renews the lease every 5 s until {@code released}; a lease lost to another process stops this one. The flag,
     * not the interrupt alone: a store call may swallow an interrupt (H2 reopens its file and clears it).
     */
    private Thread heartbeat(String id, String owner, AtomicBoolean released) {
        Thread t = new Thread(() -> {
            while (!released.get()) {
                try {
                    Thread.sleep(5_000);
                    if (released.get()) {
                        return;
                    }
                    if (!store.leases().renew(id, owner)) {
                        listener.line("lost the lease of migration " + id + " to another process; stopping");
                        stop();
                        return;
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the store is briefly unreachable; the next beat tries again
                }
            }
        }, "tandem-lease-" + id);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
