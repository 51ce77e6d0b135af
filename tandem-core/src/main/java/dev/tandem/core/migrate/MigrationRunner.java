package dev.tandem.core.migrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.backfill.BackfillListener;
import dev.tandem.core.backfill.BackfillResult;
import dev.tandem.core.backfill.BackfillRunner;
import dev.tandem.core.backfill.ChunkHooks;
import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.backfill.FailurePolicy;
import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.ChunkGates;
import dev.tandem.core.cdc.StreamApplier;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cdc.TimestampColumnCapture;
import dev.tandem.core.cutover.Cutover;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.manifest.Continuous;
import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.manifest.Enums;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.manifest.Validation;
import dev.tandem.core.plan.EndpointReport;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.plan.ScopeResolver;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.ChunkWriter;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.KeyJson;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.Leases;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.verify.ContinuousVerifier;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code tandem migrate}: takes one migration through prepare, backfill and (with change data capture) catch-up.
 * Every step is recorded in the control store before it is relied on, so a run killed at any point continues: the
 * lifecycle says which phase is done, chunk statuses say which rows are on the target, the stream's confirmed
 * position says which changes are. One process at a time holds a migration (its lease); a killed one's lease goes
 * stale in 30 s (at once on the same host).
 * <ol>
 *   <li>register the migration (pending → ready) or, for a rerun, check the previous run belongs to it;</li>
 *   <li>preflight both sides exactly as {@code tandem plan} does, and stop on any problem;</li>
 *   <li>prepare: create the target tables ({@code schema: create}) or rely on the checked existing ones; with CDC,
 *       open the change stream (slot, P0) before any row is copied (DESIGN.md correctness point 1);</li>
 *   <li>backfill: plan the chunks (or take the previous run's unfinished ones), store the run, copy; with CDC the
 *       stream runs alongside under the per-chunk rule ({@link ChunkGates}, point 3);</li>
 *   <li>after a complete copy of whole tables: indexes, foreign keys, sequences; without CDC then cleanup →
 *       completed;</li>
 *   <li>catch-up (CDC): stream until {@code tandem stop} / Ctrl-C (paused; a rerun resumes from the confirmed
 *       position) or, with {@code stop_when: in_sync}, until a fence comes back applied: then the stream's slot and
 *       publication are dropped and the migration completes.</li>
 * </ol>
 */
public final class MigrationRunner {
    /** Exit code of a run stopped by the operator (Ctrl-C): 128 + SIGINT, as shells report it. */
    public static final int INTERRUPTED_EXIT = 130;

    /** What the operator asked for besides the manifest. */
    public record Options(Long prevRunId, String rangeMin, String rangeMax, String actor) {
    }

    private final ControlStore store;
    private final ConnectorRegistry registry;
    private final BackfillListener listener;
    private final Consumer<String> say;
    /** Memory all held-back changes may take before they spill to disk. */
    private static final long HELD_MEMORY = 64L << 20;

    private volatile BackfillRunner backfill;
    private volatile boolean stopped;
    private volatile String stopWhy = "interrupted (Ctrl-C)";
    private volatile boolean stopImmediately;
    private volatile boolean immediateStop;

    /**
     * @param say receives one line per step for the operator (what is being done, what was found)
     */
    public MigrationRunner(ControlStore store, ConnectorRegistry registry, BackfillListener listener,
                           Consumer<String> say) {
        this.store = store;
        this.registry = registry;
        this.listener = listener;
        this.say = say;
    }

    /** The audit action of a table given up under allow_partial; its detail starts with the table's name. */
    public static final String TABLE_FAILED = "table_failed";

    /** Tables given up under allow_partial by this or an earlier run (from the audit log). */
    public Set<String> givenUpTables(String migrationId) {
        Set<String> out = new java.util.TreeSet<>();
        store.audit().list(migrationId).stream().filter(e -> TABLE_FAILED.equals(e.action()) && e.detail() != null)
                .forEach(e -> out.add(e.detail().substring(0, Math.max(0, e.detail().indexOf(": ")))));
        return out;
    }

    /**
     * The run a continuation of {@code r} redoes: its newest backfill run while the copy is not done (only the chunks
     * not yet PASS are copied again), else none: in catch-up the stream resumes from its confirmed position, and after
     * a finished run restricted to a key range a new run plans every table whole.
     */
    public static Long runToContinue(ControlStore store, MigrationRecord r) {
        if (!r.status().phase().isBefore(Phase.CATCH_UP)) {
            return null;
        }
        return store.runs().list(r.id()).stream().filter(x -> x.kind() == RunRecord.Kind.BACKFILL).findFirst()
                .filter(x -> x.status() != RunStatus.ENDED || (x.rangeMin() == null && x.rangeMax() == null))
                .map(RunRecord::runId).orElse(null);
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
        stopWhy = why;
        stopImmediately = immediate;
        stopped = true;
        BackfillRunner b = backfill;
        if (b != null) {
            b.stop();
        }
    }

    public MigrationOutcome migrate(ManifestDocument doc, Options opts) {
        Manifest m = doc.manifest();
        refuseWhatIsNotBuiltYet(m, opts);
        MigrationRecord record = register(doc, opts);
        opts = continuation(record, opts);
        String owner = Leases.ownerForThisProcess();
        store.leases().acquire(m.id(), owner);
        Thread heartbeat = heartbeat(m.id(), owner);
        try {
            return run(m, record, opts);
        } finally {
            heartbeat.interrupt();
            store.leases().release(m.id(), owner);
        }
    }

    /**
     * A rerun without --prev-run continues the newest backfill run while the copy is not done (as a server resuming
     * the migration does), so "run it again" needs no run id; a run restricted to a key range starts its own run.
     */
    private Options continuation(MigrationRecord record, Options opts) {
        if (opts.prevRunId() != null || opts.rangeMin() != null || opts.rangeMax() != null) {
            return opts;
        }
        Long run = runToContinue(store, record);
        if (run == null) {
            return opts;
        }
        say.accept("Continuing run " + run + " (its chunks not yet PASS are copied again)");
        return new Options(run, null, null, opts.actor());
    }

    private MigrationOutcome run(Manifest m, MigrationRecord record, Options opts) {
        // Tables are only created once the migration is running: one that ever left ready may have made some.
        boolean resuming = opts.prevRunId() != null || record.status().state() != MigrationState.READY;
        say.accept("Checking source and target (as tandem plan does) ...");
        PlanReport plan = new Planner(registry).plan(m, resuming);
        if (!plan.ok()) {
            List<String> problems = new ArrayList<>();
            for (EndpointReport e : List.of(plan.source(), plan.target())) {
                e.findings().stream().filter(Finding::isError)
                        .forEach(f -> problems.add(e.role() + ": " + f.message() + "; fix: " + f.fix()));
            }
            throw new TandemException(plan.failure(), "preflight found " + problems.size() + " problem"
                    + (problems.size() == 1 ? "" : "s") + "; nothing was changed:\n  - "
                    + String.join("\n  - ", problems) + "\nRun tandem plan -f for the full report.", problems, null);
        }
        Tables t = Tables.of(registry, m);
        Connector source = t.source();
        Connector target = t.target();
        Status status = start(m.id(), record.status(), opts.actor());
        List<String> schemaActions = new ArrayList<>();
        boolean streaming = m.cdc().enabled();
        ChangeStreamRunner stream = null;
        try {
            List<TableInfo> tables = t.sourceTables();
            if (status.phase() == Phase.PREPARE) {
                schemaActions.addAll(prepare(m, source, target, tables));
                if (streaming) {
                    openStream(m, t);
                }
                status = store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.BACKFILL, opts.actor(),
                        schemaActions.size() + " schema changes on the target").status();
            }
            if (stopped) {
                return paused(m, null, schemaActions);
            }
            List<TableJob> jobs = t.copyJobs();
            Cutover cutover = new Cutover(store, t, say, opts.actor());
            String recovered = cutover.recover(status.phase());
            if (recovered != null) {
                say.accept(recovered);
            }
            if (status.phase() == Phase.CUTOVER) {
                ChangeStreamRunner reverse = Streams.reverse(store, t, say);
                reverse.start();
                say.accept("Cut over to the target; the reverse stream (target → source) runs for a rollback");
                return streamReverse(m, cutover, reverse, null, schemaActions, opts);
            }
            if (streaming) {
                openStream(m, t); // a no-op unless a crash came between creating the slot and storing P0
                stream = Streams.forward(store, t, say);
                stream.applier().failureHandling(m.failureHandling(), givenUpTables(m.id()), (table, why) -> {
                    say.accept("failure_handling allow_partial: table " + table + " is given up, its changes are "
                            + "skipped from now on (the other tables go on): " + why);
                    store.audit().record(m.id(), "tandem (failure_handling: allow_partial)", TABLE_FAILED,
                            table + ": " + why);
                });
            }
            BackfillResult result = null;
            if (status.phase() == Phase.BACKFILL) {
                RunRecord run = createRun(m, source, jobs, opts);
                say.accept("Run " + run.runId() + ": copying " + store.runs().chunks(run.runId(), null).size()
                        + " chunks with " + m.data().parallelism() + " workers"
                        + (run.prevRunId() == null ? "" : " (the unfinished chunks of run " + run.prevRunId() + ")")
                        + (streaming ? ", streaming changes alongside" : ""));
                ChunkGates gates = null;
                ChunkHooks hooks = ChunkHooks.NONE;
                if (stream != null) {
                    gates = gates(run, jobs);
                    stream.applier().gates(gates);
                    stream.start();
                    hooks = hooks(gates, stream.applier());
                }
                BackfillRunner runner = new BackfillRunner(store, source, target, m.data(),
                        new FailurePolicy(m.failureHandling()), listener, hooks);
                backfill = runner;
                if (stopped) {
                    runner.stop();
                }
                Thread watchdog = watchdog(stream, runner, run.runId(), new AlertWatch(store, m.id(), m.alerting(),
                        say));
                try {
                    result = runner.run(run, jobs);
                } finally {
                    watchdog.interrupt();
                }
                backfill = null;
                if (stream != null && stream.failure().isPresent()) {
                    return streamFailed(m, stream.failure().get(), result, schemaActions, opts, "Fix the cause, "
                            + "then: tandem migrate -f MANIFEST --prev-run " + run.runId() + " (the copied chunks "
                            + "stay; the stream resumes from its confirmed position)");
                }
                if (result.interrupted()) {
                    return paused(m, result, schemaActions);
                }
                if (!result.complete()) {
                    String why = result.failure() != null ? result.failure()
                            : "tables failed: " + String.join(", ", result.failedTables());
                    Status failed = store.migrations().transition(m.id(), LifecycleEvent.FAIL, null, opts.actor(),
                            "run " + run.runId() + ": " + why).status();
                    ErrorCode code = result.failedSide() == Role.SOURCE ? ErrorCode.SOURCE : ErrorCode.TARGET;
                    return new MigrationOutcome(m.id(), failed, result, schemaActions, code, "run " + run.runId()
                            + " did not finish: " + why + ". Fix the cause, then: tandem migrate -f MANIFEST --prev-run "
                            + run.runId());
                }
                if (run.rangeMin() != null || run.rangeMax() != null) {
                    return new MigrationOutcome(m.id(), store.migrations().get(m.id()).status(), result, schemaActions,
                            null, "run " + run.runId() + " copied its key range; the migration stays in backfill "
                            + "until a run covers the rest (indexes and foreign keys are built after that)");
                }
                if (m.schema() == SchemaMode.CREATE) {
                    schemaActions.addAll(finish(source, target, tables, m.data().parallelism(), streaming));
                }
                if (!streaming) {
                    store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.CLEANUP, opts.actor(),
                            "backfill complete in run " + run.runId());
                    Status done = store.migrations().transition(m.id(), LifecycleEvent.COMPLETE, null, opts.actor(),
                            "no change data capture (type full): the copy is the migration").status();
                    return new MigrationOutcome(m.id(), done, result, schemaActions, null, "every chunk copied");
                }
                stream.applier().gates(null);
                status = store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.CATCH_UP, opts.actor(),
                        "backfill complete in run " + run.runId() + "; streaming continues").status();
            } else {
                stream.start();
            }
            return streamUntilDone(m, source, target, tables, jobs, stream, result, schemaActions, opts);
        } catch (SQLException e) {
            store.migrations().transition(m.id(), LifecycleEvent.FAIL, null, opts.actor(), e.getMessage());
            throw new TandemException(ErrorCode.TARGET, "preparing the tables failed: " + m.target().scrub(
                    m.source().scrub(e.getMessage())) + "; rerun with --prev-run once fixed", e);
        } catch (TandemException e) {
            if (store.migrations().get(m.id()).status().state() == MigrationState.RUNNING) {
                store.migrations().transition(m.id(), LifecycleEvent.FAIL, null, opts.actor(), e.getMessage());
            }
            throw e;
        } finally {
            if (stream != null) {
                stream.stop(immediateStop);
            }
        }
    }

    /**
     * Catch-up: the stream applies until the operator stops it (tandem stop, Ctrl-C) or, with
     * {@code continuous.stop_when: in_sync}, until a fence written on the source comes back applied with nothing held
     * back: then the target holds every committed source row; sequences are set again, the slot and publication are
     * dropped and the migration completes.
     */
    private MigrationOutcome streamUntilDone(Manifest m, Connector source, Connector target, List<TableInfo> tables,
                                             List<TableJob> jobs, ChangeStreamRunner stream, BackfillResult result,
                                             List<String> schemaActions, Options opts) {
        ContinuousVerifier verifier = continuousVerifier(m, source, target, jobs, stream);
        try {
            return streamUntilDone(m, source, target, tables, jobs, stream, verifier, result, schemaActions, opts);
        } finally {
            if (verifier != null) {
                stream.applier().onApplied(null);
                verifier.close();
            }
        }
    }

    /** Continuous verification of {@code validation}, started; null when it is off or cannot run here. */
    private ContinuousVerifier continuousVerifier(Manifest m, Connector source, Connector target, List<TableJob> jobs,
                                                  ChangeStreamRunner stream) {
        if (!m.validation().continuous() || m.validation().mode() == Validation.Mode.NONE) {
            return null;
        }
        Optional<String> why = ContinuousVerifier.whyNot(source, target);
        if (why.isPresent()) {
            say.accept("Not verifying continuously: " + why.get());
            return null;
        }
        ContinuousVerifier v = new ContinuousVerifier(store, m.id(), source, target, jobs, stream::fenceApplied,
                m.validation().repair(), m.validation().rowsPerSecond(), m.data().chunkRows(), say);
        stream.applier().onApplied(v);
        v.start();
        say.accept("Verifying continuously (run " + v.runId() + "): every applied row shortly after its apply, and "
                + "full passes at up to " + m.validation().rowsPerSecond() + " rows/s"
                + (m.validation().repair() ? "; drift is repaired from the source" : ""));
        return v;
    }

    private MigrationOutcome streamUntilDone(Manifest m, Connector source, Connector target, List<TableInfo> tables,
                                             List<TableJob> jobs, ChangeStreamRunner stream,
                                             ContinuousVerifier verifier,
                                             BackfillResult result, List<String> schemaActions, Options opts) {
        boolean inSync = m.continuous().stopWhen() == Continuous.StopWhen.IN_SYNC;
        AbortWatch watch = new AbortWatch(m.abortThresholds());
        AlertWatch alerts = new AlertWatch(store, m.id(), m.alerting(), say);
        long nextCheck = System.nanoTime();
        say.accept(inSync ? "Streaming changes until the target is in sync ..."
                : "Streaming changes until stopped (tandem stop " + m.id() + ", or Ctrl-C) ...");
        long nextReport = System.nanoTime();
        long nextSync = System.nanoTime();
        try {
            while (true) {
                Optional<Throwable> failure = stream.failure();
                if (failure.isPresent()) {
                    return streamFailed(m, failure.get(), result, schemaActions, opts, "Fix the cause, then run "
                            + "tandem migrate -f MANIFEST again: it resumes from the confirmed position");
                }
                Optional<Requests.Kind> request = store.requests().take(m.id());
                if (request.isPresent() && request.get() == Requests.Kind.CUTOVER) {
                    Cutover cutover = new Cutover(store, new Tables(m, source, target), say, "tandem cutover");
                    Cutover.Result r = cutover.cutover(stream, verifier);
                    if (r.ok()) {
                        if (verifier != null) {
                            stream.applier().onApplied(null);
                            verifier.close();
                        }
                        alerts.resolveAll("cut over to the target");
                        return streamReverse(m, cutover, r.reverse(), result, schemaActions, opts);
                    }
                    continue;
                }
                if (request.isPresent() && request.get() != Requests.Kind.STOP
                        && request.get() != Requests.Kind.STOP_IMMEDIATE) {
                    say.accept("Ignoring a " + request.get().name().toLowerCase(Locale.ROOT) + " request: the "
                            + "migration is not cut over");
                    continue;
                }
                if (request.isPresent() || stopped) {
                    boolean immediate = request.map(k -> k == Requests.Kind.STOP_IMMEDIATE).orElse(stopImmediately);
                    immediateStop = immediate;
                    stream.stop(immediate);
                    String who = request.isPresent() ? "tandem stop" + (immediate ? " --immediate" : "") : stopWhy;
                    Status s = store.migrations().transition(m.id(), LifecycleEvent.PAUSE, null, "operator", who)
                            .status();
                    return new MigrationOutcome(m.id(), s, result, schemaActions, null, "streaming stopped by " + who
                            + " at " + positionText(m.id()) + "; continue with: tandem migrate -f MANIFEST",
                            request.isEmpty());
                }
                long now = System.nanoTime();
                if (now >= nextCheck) {
                    nextCheck = now + TimeUnit.SECONDS.toNanos(1);
                    LagSample s = stream.lastSample();
                    Optional<AbortWatch.Crossing> crossed = watch.check(now, verifier == null ? -1
                            : verifier.driftRows(), s == null ? -1 : s.seconds(), stream.applier().attempts(),
                            stream.applier().failedAttempts());
                    Map<String, Double> values = new HashMap<>();
                    if (s != null) {
                        values.put("lag_seconds", s.seconds());
                        values.put("lag_records", (double) s.records());
                        values.put("lag_bytes", (double) s.bytes());
                    }
                    if (verifier != null) {
                        values.put("drift_rows", (double) verifier.driftRows());
                    }
                    if (!Double.isNaN(watch.errorRate())) {
                        values.put("error_rate", watch.errorRate());
                    }
                    alerts.evaluate(values);
                    if (crossed.isPresent()) {
                        alerts.resolveAll("the migration aborted");
                        return abortOnThreshold(m, source, target, stream, verifier, crossed.get(), result,
                                schemaActions);
                    }
                }
                if (now >= nextReport) {
                    LagSample s = stream.lastSample();
                    if (s != null) {
                        say.accept(String.format(java.util.Locale.ROOT, "  streaming: %,d changes applied; lag %.1f s, "
                                + "%,d records, %s%s", stream.applier().applied(), s.seconds(), s.records(),
                                dev.tandem.core.plan.Sizes.bytes(s.bytes()), verifier == null ? ""
                                        : String.format(java.util.Locale.ROOT, "; verified %,d applied rows, %d "
                                        + "passes, drift %d", verifier.keysChecked(), verifier.passes(),
                                        verifier.confirmed())));
                    }
                    nextReport = now + TimeUnit.SECONDS.toNanos(5);
                }
                if (inSync && now >= nextSync) {
                    nextSync = now + TimeUnit.SECONDS.toNanos(1);
                    if (stream.syncedNow(Duration.ofSeconds(30))) {
                        alerts.resolveAll("the migration completed");
                        return completeInSync(m, source, target, tables, stream, result, schemaActions, opts);
                    }
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stream.stop(true);
            Status s = store.migrations().transition(m.id(), LifecycleEvent.PAUSE, null, "operator", "interrupted")
                    .status();
            return new MigrationOutcome(m.id(), s, result, schemaActions, null, "interrupted", true);
        }
    }

    /**
     * After the cutover: the reverse stream (target → source) applies until a rollback, a cleanup, or a stop (paused;
     * a rerun resumes the reverse stream from its confirmed position).
     */
    private MigrationOutcome streamReverse(Manifest m, Cutover cutover, ChangeStreamRunner reverse,
                                           BackfillResult result, List<String> schemaActions, Options opts) {
        try {
            while (true) {
                Optional<Throwable> failure = reverse.failure();
                if (failure.isPresent()) {
                    reverse.stop(true);
                    return streamFailed(m, failure.get(), result, schemaActions, opts, "The target stays "
                            + "authoritative; fix the cause, then run the migration again: the reverse stream "
                            + "resumes from its confirmed position");
                }
                Optional<Requests.Kind> request = store.requests().take(m.id());
                if (request.isPresent() && request.get() == Requests.Kind.ROLLBACK) {
                    Cutover.Result r = new Cutover(store, cutover.tables(), say, "tandem rollback").rollback(reverse);
                    if (r.ok()) {
                        return new MigrationOutcome(m.id(), store.migrations().get(m.id()).status(), result,
                                schemaActions, null, "rolled back to the source: it holds every write the target "
                                + "took");
                    }
                    continue;
                }
                if (request.isPresent() && request.get() == Requests.Kind.CLEANUP) {
                    String archived = cutover.cleanup(reverse);
                    say.accept("Cleanup done: the reverse stream was dropped; " + archived);
                    return new MigrationOutcome(m.id(), store.migrations().get(m.id()).status(), result,
                            schemaActions, null, "completed: cut over to the target; " + archived);
                }
                if (request.isPresent() && request.get() == Requests.Kind.CUTOVER) {
                    continue; // done already
                }
                if (request.isPresent() || stopped) {
                    boolean immediate = request.map(k -> k == Requests.Kind.STOP_IMMEDIATE).orElse(stopImmediately);
                    reverse.stop(immediate);
                    String who = request.isPresent() ? "tandem stop" : stopWhy;
                    Status s = store.migrations().transition(m.id(), LifecycleEvent.PAUSE, null, "operator", who)
                            .status();
                    return new MigrationOutcome(m.id(), s, result, schemaActions, null, "the reverse stream was "
                            + "stopped by " + who + "; routing stays on the target; continue with: tandem resume "
                            + m.id(), request.isEmpty());
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            reverse.stop(true);
            Status s = store.migrations().transition(m.id(), LifecycleEvent.PAUSE, null, "operator", "interrupted")
                    .status();
            return new MigrationOutcome(m.id(), s, result, schemaActions, null, "interrupted", true);
        } catch (SQLException e) {
            reverse.stop(true);
            throw new TandemException(ErrorCode.TARGET, "cleanup failed: " + m.target().scrub(e.getMessage())
                    + "; run the migration again and repeat the cleanup", e);
        }
    }

    /**
     * An abort threshold was crossed: the migration aborts by itself (DESIGN.md control plane), like
     * {@code tandem abort}: the stream stops at once, the migration goes rolling_back (the audit row names the
     * threshold, the value and the limit), the slot and publication are dropped, rolled_back. The target's tables
     * are left as they are, for inspection.
     */
    private MigrationOutcome abortOnThreshold(Manifest m, Connector source, Connector target,
                                              ChangeStreamRunner stream, ContinuousVerifier verifier,
                                              AbortWatch.Crossing crossed, BackfillResult result,
                                              List<String> schemaActions) {
        String why = crossed.describe();
        say.accept("ABORTING: " + why);
        immediateStop = true;
        stream.stop(true);
        if (verifier != null) {
            verifier.close();
        }
        ErrorCode code = crossed.threshold().equals("drift_rows") ? ErrorCode.DRIFT_FOUND : ErrorCode.BAD_STATE;
        Status done;
        try {
            done = new MigrationControl(store).abandon(m, "tandem (abort_thresholds)", why, say).status();
        } catch (TandemException e) {
            return new MigrationOutcome(m.id(), store.migrations().get(m.id()).status(), result, schemaActions, code,
                    why + "; " + e.getMessage());
        }
        return new MigrationOutcome(m.id(), done, result, schemaActions, code, why + "; the migration was aborted ("
                + done.state().wire() + "): its change stream was dropped, the target's tables were left as they are"
                + (verifier == null ? "" : "; drift is listed under verify run " + verifier.runId()));
    }

    private MigrationOutcome completeInSync(Manifest m, Connector source, Connector target, List<TableInfo> tables,
                                            ChangeStreamRunner stream, BackfillResult result,
                                            List<String> schemaActions, Options opts) {
        stream.stop(false);
        String at = positionText(m.id());
        say.accept("In sync at " + at + ": the target holds every change the source committed.");
        try {
            if (m.schema() == SchemaMode.CREATE) {
                schemaActions.addAll(finish(source, target, tables, m.data().parallelism(), true));
            }
            Streams.dropForward(m, source, target);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "in sync, but finishing failed: " + m.source().scrub(
                    m.target().scrub(e.getMessage())) + "; run tandem migrate -f MANIFEST again to finish", e);
        }
        store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.CLEANUP, opts.actor(),
                "in sync at " + at + " (continuous.stop_when: in_sync); slot and publication dropped");
        Status done = store.migrations().transition(m.id(), LifecycleEvent.COMPLETE, null, opts.actor(),
                "in sync at " + at).status();
        return new MigrationOutcome(m.id(), done, result, schemaActions, null, "in sync at " + at
                + "; the change stream's slot and publication were dropped");
    }

    private String positionText(String id) {
        return store.positions().find(id, StreamDirection.FORWARD).map(p -> "position " + p.confirmed())
                .orElse("the start");
    }

    private MigrationOutcome streamFailed(Manifest m, Throwable failure, BackfillResult result,
                                          List<String> schemaActions, Options opts, String fix) {
        String why = m.target().scrub(m.source().scrub(String.valueOf(failure.getMessage())));
        Status failed = store.migrations().transition(m.id(), LifecycleEvent.FAIL, null, opts.actor(),
                "change stream stopped: " + why).status();
        return new MigrationOutcome(m.id(), failed, result, schemaActions, ErrorCode.TARGET,
                "the change stream stopped: " + why + ". " + fix);
    }

    /**
     * Stops the backfill as soon as the change stream fails: copying on would only grow what a rerun must redo, and
     * the changes of copied chunks are no longer being applied.
     */
    /**
     * Watches the copy: stops it when the change stream running alongside failed, and evaluates the alert rules
     * (lag, chunks_failed) about once a second.
     *
     * @param stream null without change data capture
     */
    private Thread watchdog(ChangeStreamRunner stream, BackfillRunner runner, long runId, AlertWatch alerts) {
        Thread t = new Thread(() -> {
            try {
                boolean alerting = true;
                for (int tick = 0; stream == null || stream.failure().isEmpty(); tick++) {
                    if (alerting && tick % 5 == 0) {
                        Map<String, Double> values = new HashMap<>();
                        LagSample s = stream == null ? null : stream.lastSample();
                        if (s != null) {
                            values.put("lag_seconds", s.seconds());
                            values.put("lag_records", (double) s.records());
                            values.put("lag_bytes", (double) s.bytes());
                        }
                        try {
                            values.put("chunks_failed", (double) store.runs().chunkCounts(runId)
                                    .getOrDefault(ChunkStatus.FAIL, 0L));
                            alerts.evaluate(values);
                        } catch (RuntimeException e) {
                            alerting = false; // the copy goes on; its own store writes report a broken store
                            say.accept("warning: alert rules are not evaluated during this copy: " + e.getMessage());
                        }
                    }
                    Thread.sleep(200);
                }
                say.accept("The change stream stopped during the copy; stopping the copy");
                runner.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "tandem-backfill-watchdog");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** DESIGN.md point 1: the change log is opened (slot created, P0 stored) before the first chunk is copied. */
    private void openStream(Manifest m, Tables t) throws SQLException {
        Optional<String> p0;
        try {
            p0 = Streams.openForward(store, t);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot open the change stream on the source: "
                    + m.source().scrub(e.getMessage()) + "; tandem plan -f MANIFEST lists the privileges it needs", e);
        }
        if (p0.isPresent()) {
            String every = m.cdc().pollInterval().toString().substring(2).toLowerCase(Locale.ROOT);
            say.accept("Opened the change stream " + Streams.name(m.id(), StreamDirection.FORWARD) + " at "
                    + p0.get() + (m.cdc().method() == Cdc.Method.TIMESTAMP_COLUMN ? " (polling "
                    + m.cdc().timestampColumn() + " every " + every + "; nothing is created on the source)"
                    : " (publication and logical replication slot on the source)") + ", before any row is copied");
        }
    }

    /** The run's chunks as gates for the stream, in the target's key types. */
    private ChunkGates gates(RunRecord run, List<TableJob> jobs) {
        Map<String, List<ChunkGates.ChunkSpec>> specs = new HashMap<>();
        for (ChunkRecord c : store.runs().chunks(run.runId(), null)) {
            if (c.status() == ChunkStatus.PASS) {
                continue;
            }
            TableJob job = jobs.stream().filter(j -> j.name().equals(c.tableName())).findFirst().orElseThrow();
            specs.computeIfAbsent(c.tableName(), k -> new ArrayList<>())
                    .add(new ChunkGates.ChunkSpec(c.chunkNo(), job.targetRange(c)));
        }
        Path spill = store.spillDirectory().resolve("spill-" + run.runId());
        ChunkGates gates = new ChunkGates(spill, HELD_MEMORY, Streams.APPLY_BATCH);
        for (TableJob j : jobs) {
            gates.addTable(j.name(), j.source().keyColumns(), specs.getOrDefault(j.name(), List.of()));
        }
        return gates;
    }

    private static ChunkHooks hooks(ChunkGates gates, StreamApplier applier) {
        return new ChunkHooks() {
            @Override
            public void beforeSnapshot(String table, int chunkNo) {
                gates.started(table, chunkNo);
            }

            @Override
            public void afterCommit(String table, int chunkNo, Connection target) throws Exception {
                gates.committed(table, chunkNo, (changes, scope) -> applier.drain(target, changes, scope));
            }

            @Override
            public void tableFailed(String table) {
                gates.tableFailed(table);
            }
        };
    }

    private MigrationOutcome paused(Manifest m, BackfillResult result, List<String> schemaActions) {
        Status s = store.migrations().transition(m.id(), LifecycleEvent.PAUSE, null, "operator", stopWhy).status();
        String next = result == null ? "" : "; continue with: tandem migrate -f MANIFEST --prev-run " + result.runId();
        return new MigrationOutcome(m.id(), s, result, schemaActions, null, "interrupted" + next, true);
    }

    private static void refuseWhatIsNotBuiltYet(Manifest m, Options opts) {
        Cdc.Method method = m.cdc().method();
        if (method == Cdc.Method.BINLOG) {
            throw TandemException.badInput("cdc.method: 'binlog' is not built yet; this version streams PostgreSQL "
                    + "sources with logical_replication (or auto) and any source with timestamp_column. To copy "
                    + "without change capture set cdc: {method: none} (type full)");
        }
        if (m.cdc().enabled()) {
            ConflictResolution cr = m.conflictResolution();
            List<ConflictResolution.Strategy> used = new ArrayList<>();
            used.add(cr.defaultStrategy());
            cr.overrides().forEach(o -> used.add(o.strategy()));
            for (ConflictResolution.Strategy st : used) {
                if (st != ConflictResolution.Strategy.SOURCE_WINS && st != ConflictResolution.Strategy.NEWEST_WINS) {
                    throw TandemException.badInput("conflict_resolution: '" + Enums.wire(st) + "' decides between "
                            + "writes made on both sides, which only happen with dual writes (not built yet); before "
                            + "cutover use source_wins or newest_wins");
                }
            }
            if (opts.rangeMin() != null || opts.rangeMax() != null) {
                throw TandemException.badInput("--range-min/--range-max copy part of each table, but a change stream "
                        + "applies changes to every row; leave them out, or set cdc: {method: none}");
            }
        }
        if (m.data().type() == DataMovement.Type.SNAPSHOT) {
            throw TandemException.badInput("data.type: 'snapshot' (one consistent snapshot for every table) is not "
                    + "built yet; use data.type: scan");
        }
    }

    /** Creates the migration on its first run; on a rerun checks that the previous run is this migration's. */
    private MigrationRecord register(ManifestDocument doc, Options opts) {
        Manifest m = doc.manifest();
        String json = json(doc);
        Optional<MigrationRecord> existing = store.migrations().find(m.id());
        if (existing.isEmpty()) {
            if (opts.prevRunId() != null) {
                throw TandemException.notFound("--prev-run " + opts.prevRunId() + ": migration " + m.id()
                        + " has no runs in the control store " + store.display() + "; check --store, or drop "
                        + "--prev-run to start");
            }
            store.migrations().create(m.id(), m.description(), json, opts.actor());
            return store.migrations().transition(m.id(), LifecycleEvent.CONFIGURE, null, opts.actor(),
                    "tandem migrate");
        }
        MigrationRecord r = existing.get();
        if (r.status().state().isTerminal()) {
            throw TandemException.badState("migration " + m.id() + " is " + r.status().state().wire()
                    + "; expected a migration still to finish. Use another id to migrate again");
        }
        if (!r.status().phase().isBefore(Phase.CATCH_UP)) {
            // The copy is done; a rerun resumes streaming from the confirmed position.
            return updated(r, m, json, opts, "resumed stream");
        }
        if (opts.prevRunId() == null) {
            // continues its newest run (see continuation), or, stopped before its first run was stored (in preflight
            // or while creating tables), starts one
            return updated(r, m, json, opts, "rerun");
        }
        RunRecord prev = store.runs().find(opts.prevRunId()).orElseThrow(() -> TandemException.notFound(
                "--prev-run " + opts.prevRunId() + ": run not found in the control store " + store.display()
                + ". Run tandem migrate -f MANIFEST without --prev-run: it continues from the newest run the store "
                + "holds for " + m.id() + " (list them with tandem runs " + m.id() + ")"));
        if (!m.id().equals(prev.migrationId()) || prev.kind() != RunRecord.Kind.BACKFILL) {
            throw TandemException.badInput("--prev-run " + opts.prevRunId() + " is a " + prev.kind().name()
                    .toLowerCase(java.util.Locale.ROOT) + " run of migration " + prev.migrationId() + ", not a backfill "
                    + "run of " + m.id() + "; list this migration's runs with tandem runs " + m.id());
        }
        return updated(r, m, json, opts, "rerun of run " + prev.runId());
    }

    private MigrationRecord updated(MigrationRecord r, Manifest m, String json, Options opts, String why) {
        if (json.equals(r.manifest())) {
            return r;
        }
        return store.migrations().updateManifest(m.id(), r.version(), m.description(), json, opts.actor(),
                "manifest changed for the " + why);
    }

    /** Moves the migration into running, from wherever a first run or a rerun finds it. */
    private Status start(String id, Status current, String actor) {
        return switch (current.state()) {
            case READY -> store.migrations().transition(id, LifecycleEvent.START, null, actor, null).status();
            case FAILED -> store.migrations().transition(id, LifecycleEvent.RETRY, null, actor, null).status();
            case PAUSED -> store.migrations().transition(id, LifecycleEvent.RESUME, null, actor, null).status();
            // A process that died while running left the state as it was; its lease (now ours) was stale.
            case RUNNING -> current;
            default -> throw TandemException.badState("cannot run migration " + id + ": expected state ready, paused, "
                    + "failed or running, actual " + current.state().wire());
        };
    }

    private List<String> prepare(Manifest m, Connector source, Connector target, List<TableInfo> tables)
            throws SQLException {
        if (m.schema() == SchemaMode.EXISTING) {
            say.accept("Using the existing target tables (schema: existing; checked by preflight)");
            return List.of();
        }
        SchemaCopier copier = schemaCopier(source, target);
        say.accept("Creating " + tables.size() + " tables on the target ...");
        // Keys after the data when nothing needs them during the load (no stream applies changes by key yet).
        boolean deferKeys = !m.cdc().enabled() && m.data().replace() == DataMovement.Replace.REPLACE;
        try (Connection s = source.connect(); Connection t = target.connect()) {
            List<String> done = copier.createTables(s, t, tables, deferKeys);
            done.forEach(line -> say.accept("  " + line));
            return done;
        }
    }

    private List<String> finish(Connector source, Connector target, List<TableInfo> tables, int parallelism,
                                boolean streaming) throws SQLException {
        say.accept("Building indexes and foreign keys, setting sequences ...");
        try (Connection s = source.connect()) {
            List<String> done = schemaCopier(source, target).finishTables(s, target::connect, tables, parallelism,
                    streaming);
            done.forEach(line -> say.accept("  " + line));
            return done;
        }
    }

    private static SchemaCopier schemaCopier(Connector source, Connector target) {
        return source.schemaCopier().filter(sc -> sc.supports(target)).orElseThrow(() -> TandemException.badInput(
                "schema: create cannot create " + source.name() + " tables on " + target.name() + " yet; create the "
                        + "target tables yourself and set schema: existing"));
    }

    private RunRecord createRun(Manifest m, Connector source, List<TableJob> jobs, Options opts) throws SQLException {
        List<RunRecord> earlier = store.runs().list(m.id()).stream()
                .filter(r -> r.kind() == RunRecord.Kind.BACKFILL).toList();
        if (opts.prevRunId() != null) {
            RunRecord prev = store.runs().get(opts.prevRunId());
            if (!store.runs().planIntact(prev)) {
                // The store lost some of the run's chunk rows: a range it has no record of may never have been
                // copied. Only a whole new plan covers every row; ranges already on the target are replaced.
                say.accept("Run " + prev.runId() + " was planned with " + prev.chunksPlanned() + " chunks but the "
                        + "control store holds fewer (it lost writes); planning every chunk again");
                return planRun(m, source, jobs, new Options(null, prev.rangeMin(), prev.rangeMax(), opts.actor()),
                        false, "replan of run " + prev.runId() + " (chunk rows lost)");
            }
            // A range never started in prev is still empty on the target unless a later run (one whose record this
            // redo does not follow) copied it; any other may hold a committed attempt.
            boolean newest = earlier.isEmpty() || earlier.get(0).runId() == prev.runId();
            List<ChunkRecord> redo = new ArrayList<>();
            for (ChunkRecord c : store.runs().chunks(prev.runId(), null)) {
                if (c.status().isRedoneByNextRun()) {
                    boolean empty = newest && c.targetEmpty() && c.status() == ChunkStatus.NOT_STARTED;
                    redo.add(ChunkRecord.planned(c.tableName(), c.chunkNo(), c.keyMin(), c.keyMinInclusive(),
                            c.keyMax(), c.rowsEstimated(), empty));
                }
            }
            return store.runs().create(m.id(), RunRecord.Kind.BACKFILL, prev.runId(), prev.rangeMin(), prev.rangeMax(),
                    "redo of run " + prev.runId(), m.data().rowsPerSecond(), redo);
        }
        // With schema: create, every target table was created by this migration or found empty by preflight: before
        // any run, no range needs deleting before its first copy.
        return planRun(m, source, jobs, opts, m.schema() == SchemaMode.CREATE && earlier.isEmpty(), null);
    }

    /** Plans every chunk of every table (within the options' key range) and stores the run with them. */
    private RunRecord planRun(Manifest m, Connector source, List<TableJob> jobs, Options opts, boolean empty,
                              String info) throws SQLException {
        KeySampler sampler = source.keySampler().orElseThrow(() -> TandemException.badInput("the " + source.name()
                + " connector cannot split tables into chunks yet"));
        ChunkPlanner planner = new ChunkPlanner(sampler, m.data().chunkRows());
        List<ChunkRecord> chunks = new ArrayList<>();
        say.accept("Planning chunks of about " + m.data().chunkRows() + " rows ...");
        try (Connection c = source.connect()) {
            for (TableJob job : jobs) {
                KeyRange within = restriction(job, opts);
                int no = 0;
                for (ChunkPlanner.PlannedChunk p : planner.plan(c, job.source(), within)) {
                    chunks.add(ChunkRecord.planned(job.name(), no++, KeyJson.write(p.range().lower()),
                            p.range().lowerInclusive(), KeyJson.write(p.range().upper()), p.estimatedRows(), empty));
                }
            }
        }
        return store.runs().create(m.id(), RunRecord.Kind.BACKFILL, null, opts.rangeMin(), opts.rangeMax(), info,
                m.data().rowsPerSecond(), chunks);
    }

    /** Seed 003's custom range: --range-min and --range-max, both inclusive, on every table's key. */
    private static KeyRange restriction(TableJob job, Options opts) {
        if (opts.rangeMin() == null && opts.rangeMax() == null) {
            return null;
        }
        List<KeyColumn> key = job.source().keyColumns();
        List<String> min = opts.rangeMin() == null ? null
                : KeyJson.parseOperatorValue(opts.rangeMin(), key.size(), "--range-min");
        List<String> max = opts.rangeMax() == null ? null
                : KeyJson.parseOperatorValue(opts.rangeMax(), key.size(), "--range-max");
        return new KeyRange(key, min, min != null, max);
    }

    private Thread heartbeat(String id, String owner) {
        Thread t = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(5_000);
                    if (!store.leases().renew(id, owner)) {
                        say.accept("lost the lease of migration " + id + " to another process; stopping");
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

    private static String json(ManifestDocument doc) {
        try {
            return new ObjectMapper().writeValueAsString(doc.document());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
