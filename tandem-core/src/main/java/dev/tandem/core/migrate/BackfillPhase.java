package dev.tandem.core.migrate;

import dev.tandem.core.backfill.BackfillResult;
import dev.tandem.core.backfill.BackfillRunner;
import dev.tandem.core.backfill.ChunkHooks;
import dev.tandem.core.backfill.RunPlanner;
import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.ChunkGates;
import dev.tandem.core.cdc.StreamApplier;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.RunRecord;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Phase backfill: the run is planned and stored whole, then its chunks copy with {@code data.parallelism} workers
 * (DESIGN.md correctness point 2); with change data capture the forward stream runs alongside under the per-chunk
 * rule ({@link ChunkGates}, point 3), so the source keeps no growing backlog. A watchdog stops the copy at once when
 * the stream fails, and evaluates alert rules about once a second. After a complete copy of whole tables the schema is
 * finished; without a stream the migration completes, with one it advances to catch-up with the stream still running.
 * With {@code data: none} nothing is copied: the stream starts at P0 on the target's own rows.
 */
final class BackfillPhase {
    /** Memory all held-back changes may take before they spill to disk. */
    private static final long HELD_MEMORY = 64L << 20;

    private final SchemaStep schema;

    BackfillPhase(SchemaStep schema) {
        this.schema = schema;
    }

    Optional<MigrationOutcome> run(RunContext ctx) throws SQLException {
        Manifest m = ctx.manifest();
        boolean streaming = m.cdc().enabled();
        if (streaming && ctx.forward == null) {
            schema.openStream(ctx);
            ctx.forward = ctx.forwardStream();
        }
        if (!m.data().moves()) {
            return withoutCopy(ctx, streaming);
        }
        List<TableJob> jobs = ctx.tables.copyJobs();
        RunRecord run = new RunPlanner(ctx.store, ctx::say).create(ctx.tables, new RunPlanner.Request(
                ctx.options.prevRunId(), ctx.options.rangeMin(), ctx.options.rangeMax()));
        ctx.say("Run " + run.runId() + ": copying " + run.chunksPlanned() + " chunks with " + m.data().parallelism()
                + " workers" + (run.prevRunId() == null ? "" : " (the unfinished chunks of run " + run.prevRunId()
                + ")") + (streaming ? ", streaming changes alongside" : ""));
        ChunkHooks hooks = ChunkHooks.NONE;
        if (ctx.forward != null) {
            ChunkGates gates = gates(ctx, run, jobs);
            ctx.forward.applier().gates(gates);
            ctx.forward.start();
            hooks = hooks(gates, ctx.forward);
        }
        BackfillResult result = copy(ctx, run, jobs, hooks);
        ctx.copied = result;
        Optional<MigrationOutcome> stopped = stoppedEarly(ctx, run, result);
        if (stopped.isPresent()) {
            return stopped;
        }
        schema.finish(ctx, streaming);
        if (!streaming) {
            ctx.transition(LifecycleEvent.ADVANCE, Phase.CLEANUP, "backfill complete in run " + run.runId());
            ctx.transition(LifecycleEvent.COMPLETE, null, "no change data capture (type full): the copy is the "
                    + "migration");
            return Optional.of(ctx.outcome(null, "every chunk copied"));
        }
        ctx.forward.applier().gates(null);
        ctx.transition(LifecycleEvent.ADVANCE, Phase.CATCH_UP, "backfill complete in run " + run.runId()
                + "; streaming continues");
        return Optional.empty();
    }

    /**
     * {@code data: none} (seed 000's {@code initial_load: skip}): no existing row is copied — the target keeps the rows
     * it has (a baseline the operator loaded, e.g. restored from a backup taken at P0) and the stream applies every
     * change from P0 on, with no chunk to gate it. What the baseline lacks or holds extra stays so: verification reports
     * it, and only an operator decides to repair it.
     */
    private Optional<MigrationOutcome> withoutCopy(RunContext ctx, boolean streaming) throws SQLException {
        ctx.say("data: none: no existing row is copied; " + (streaming ? "every change from P0 on is applied onto the "
                + "target's rows as they are" : "the target keeps the rows it has"));
        if (streaming) {
            ctx.forward.start();
        }
        schema.finish(ctx, streaming);
        if (!streaming) {
            ctx.transition(LifecycleEvent.ADVANCE, Phase.CLEANUP, "no copy (data: none)");
            ctx.transition(LifecycleEvent.COMPLETE, null, "no copy (data: none) and no change data capture");
            return Optional.of(ctx.outcome(null, "nothing copied (data: none)"));
        }
        ctx.transition(LifecycleEvent.ADVANCE, Phase.CATCH_UP, "no copy (data: none); streaming from P0");
        return Optional.empty();
    }

    private BackfillResult copy(RunContext ctx, RunRecord run, List<TableJob> jobs, ChunkHooks hooks) {
        BackfillRunner runner = new BackfillRunner(ctx.store, ctx.tables, ctx.listener, hooks);
        ctx.stop.copying(runner);
        Thread watchdog = watchdog(ctx, runner, run.runId());
        try {
            return runner.run(run, jobs);
        } finally {
            watchdog.interrupt();
            ctx.stop.copying(null);
        }
    }

    /** The outcome of a copy that did not finish the backfill: the stream failed, stopped, failed, or a range run. */
    private static Optional<MigrationOutcome> stoppedEarly(RunContext ctx, RunRecord run, BackfillResult result) {
        if (ctx.forward != null && ctx.forward.failure().isPresent()) {
            return Optional.of(ctx.streamFailed(ctx.forward.failure().get(), "Fix the cause, then: tandem migrate -f "
                    + "MANIFEST --prev-run " + run.runId() + " (the copied chunks stay; the stream resumes from its "
                    + "confirmed position)"));
        }
        if (result.interrupted()) {
            return Optional.of(ctx.paused("; continue with: tandem migrate -f MANIFEST --prev-run " + run.runId()));
        }
        if (!result.complete()) {
            String why = result.failure() != null ? result.failure()
                    : "tables failed: " + String.join(", ", result.failedTables());
            ctx.transition(LifecycleEvent.FAIL, null, "run " + run.runId() + ": " + why);
            ErrorCode code = result.failedSide() == Role.SOURCE ? ErrorCode.SOURCE : ErrorCode.TARGET;
            return Optional.of(ctx.outcome(code, "run " + run.runId() + " did not finish: " + why + ". Fix the "
                    + "cause, then: tandem migrate -f MANIFEST --prev-run " + run.runId()));
        }
        if (run.rangeMin() != null || run.rangeMax() != null) {
            return Optional.of(ctx.outcome(null, "run " + run.runId() + " copied its key range; the migration stays "
                    + "in backfill until a run covers the rest (indexes and foreign keys are built after that)"));
        }
        return Optional.empty();
    }

    /**
     * Watches the copy: stops it as soon as the change stream running alongside fails (copying on would only grow
     * what a rerun must redo, and the changes of copied chunks are no longer applied), and evaluates the alert rules
     * (lag, chunks_failed) about once a second.
     */
    private static Thread watchdog(RunContext ctx, BackfillRunner runner, long runId) {
        ChangeStreamRunner stream = ctx.forward;
        Manifest started = ctx.policies.now();
        AlertWatch first = new AlertWatch(ctx.store, ctx.id(), started.alerting(), ctx.listener::alert);
        Thread t = new Thread(() -> {
            try {
                Manifest policy = started;
                AlertWatch alerts = first;
                boolean alerting = true;
                for (int tick = 0; stream == null || stream.failure().isEmpty(); tick++) {
                    if (alerting && tick % 5 == 0) {
                        try {
                            Manifest live = ctx.policies.now();
                            if (!live.alerting().equals(policy.alerting())) {
                                alerts = alerts.replacedBy(live.alerting()); // a PATCH while copying
                                ctx.say("Alert rules changed: " + live.alerting().rules().size() + " rule(s)");
                            }
                            policy = live;
                            long failed = ctx.store.runs().chunkCounts(runId).getOrDefault(ChunkStatus.FAIL, 0L);
                            alerts.evaluate(Figures.copying(stream, failed).alertValues(Double.NaN));
                        } catch (RuntimeException e) {
                            alerting = false; // the copy goes on; its own store writes report a broken store
                            ctx.say("warning: alert rules are not evaluated during this copy: " + e.getMessage());
                        }
                    }
                    Thread.sleep(200);
                }
                ctx.say("The change stream stopped during the copy; stopping the copy");
                runner.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "tandem-backfill-watchdog");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The run's chunks not yet PASS as gates for the stream, in the target's key types. */
    private static ChunkGates gates(RunContext ctx, RunRecord run, List<TableJob> jobs) {
        Map<String, List<ChunkGates.ChunkSpec>> specs = new HashMap<>();
        for (ChunkRecord c : ctx.store.runs().chunks(run.runId(), null)) {
            if (c.status() == ChunkStatus.PASS) {
                continue;
            }
            TableJob job = jobs.stream().filter(j -> j.name().equals(c.tableName())).findFirst().orElseThrow();
            specs.computeIfAbsent(c.tableName(), k -> new ArrayList<>())
                    .add(new ChunkGates.ChunkSpec(c.chunkNo(), job.targetRange(c)));
        }
        Path spill = ctx.store.spillDirectory().resolve("spill-" + run.runId());
        ChunkGates gates = new ChunkGates(spill, HELD_MEMORY, Streams.APPLY_BATCH);
        for (TableJob j : jobs) {
            gates.addTable(j.name(), j.source().keyColumns(), specs.getOrDefault(j.name(), List.of()));
        }
        return gates;
    }

    private static ChunkHooks hooks(ChunkGates gates, ChangeStreamRunner stream) {
        StreamApplier applier = stream.applier();
        return new ChunkHooks() {
            @Override
            public void beforeSnapshot(String table, int chunkNo) {
                gates.started(table, chunkNo);
            }

            @Override
            public void beforeCommit(String table, int chunkNo, Connection source) throws Exception {
                stream.copying(table, source);
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
}
