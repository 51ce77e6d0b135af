package dev.tandem.core.migrate;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.StreamFailure;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cutover.Cutover;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Continuous;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.Validation;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.Requests;
import dev.tandem.core.verify.ContinuousVerifier;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Phase catch-up (and shadow): the forward stream applies until something ends it, checked five times a second —
 * <ul>
 *   <li>the stream fails: the migration fails, resumably;</li>
 *   <li>a cutover is requested: {@link Cutover} runs between two batches; once cut over the phase is cutover;</li>
 *   <li>the operator stops it (tandem stop, Ctrl-C): paused at the confirmed position;</li>
 *   <li>an abort threshold is crossed (checked once a second with the alert rules, on one {@link Figures} sample):
 *       the migration aborts by itself through the same procedure as tandem abort;</li>
 *   <li>with {@code continuous.stop_when: in_sync}, a fence written on the source comes back applied with nothing
 *       held back: sequences are set again, the stream is dropped and the migration completes.</li>
 * </ul>
 * Continuous verification runs alongside when {@code validation.continuous} is on.
 */
final class CatchUpPhase {
    private final SchemaStep schema;

    CatchUpPhase(SchemaStep schema) {
        this.schema = schema;
    }

    Optional<MigrationOutcome> run(RunContext ctx) throws SQLException, InterruptedException {
        if (ctx.forward == null) {
            schema.openStream(ctx); // a no-op unless a crash came between creating the slot and storing P0
            ctx.forward = ctx.forwardStream();
            ctx.forward.start();
        }
        ctx.verifier = continuousVerifier(ctx, ctx.policies.now());
        try {
            return stream(ctx);
        } finally {
            if (ctx.verifier != null) {
                if (ctx.forward != null) {
                    ctx.forward.applier().onApplied(null);
                }
                ctx.verifier.close();
                ctx.verifier = null;
            }
        }
    }

    private Optional<MigrationOutcome> stream(RunContext ctx) throws SQLException, InterruptedException {
        Manifest m = ctx.manifest();
        boolean inSync = m.continuous().stopWhen() == Continuous.StopWhen.IN_SYNC;
        Manifest policy = ctx.policies.now();
        AbortWatch watch = new AbortWatch(policy.abortThresholds());
        AlertWatch alerts = new AlertWatch(ctx.store, m.id(), policy.alerting(), ctx.listener::alert);
        ctx.say(inSync ? "Streaming changes until the target is in sync ..."
                : "Streaming changes until stopped (tandem stop " + m.id() + ", or Ctrl-C) ...");
        long nextCheck = System.nanoTime();
        long nextReport = nextCheck;
        long shapes = ctx.forward.applier().shapeChanges();
        long nextSync = nextCheck;
        while (true) {
            ChangeStreamRunner stream = ctx.forward;
            Optional<StreamFailure> failure = stream.failure();
            if (failure.isPresent()) {
                return Optional.of(ctx.streamFailed(failure.get(), "Fix the cause, then run tandem migrate -f MANIFEST "
                        + "again: it resumes from the confirmed position"));
            }
            Optional<Requests.Kind> request = ctx.store.requests().take(m.id());
            if (request.isPresent() && request.get() == Requests.Kind.CUTOVER) {
                if (cutOver(ctx)) {
                    alerts.resolveAll("cut over to the target");
                    return Optional.empty();
                }
                continue;
            }
            if (request.isPresent() && request.get() != Requests.Kind.STOP
                    && request.get() != Requests.Kind.STOP_IMMEDIATE) {
                ctx.say("Ignoring a " + request.get().name().toLowerCase(Locale.ROOT) + " request: the migration is "
                        + "not cut over");
                continue;
            }
            if (request.isPresent() || ctx.stop.requested()) {
                return Optional.of(stopped(ctx, request));
            }
            long now = System.nanoTime();
            if (now >= nextCheck) {
                nextCheck = now + TimeUnit.SECONDS.toNanos(1);
                Manifest live = ctx.policies.now();
                if (live != policy) {
                    if (!live.abortThresholds().equals(policy.abortThresholds())) {
                        watch = new AbortWatch(live.abortThresholds());
                        String t = Planner.thresholds(live);
                        ctx.say("Abort thresholds changed: " + (t.isEmpty() ? "none" : t.substring(2)));
                    }
                    if (!live.alerting().equals(policy.alerting())) {
                        alerts = alerts.replacedBy(live.alerting());
                        ctx.say("Alert rules changed: " + live.alerting().rules().size() + " rule(s)");
                    }
                    if (!live.validation().equals(policy.validation())) {
                        restartVerifier(ctx, live, "Validation changed: continuous verification ");
                    }
                    policy = live;
                }
                if (stream.applier().shapeChanges() != shapes) {
                    // on_schema_change: apply altered a target table: compare its columns as they are now
                    shapes = stream.applier().shapeChanges();
                    ctx.tables = ctx.tables.reread();
                    if (ctx.verifier != null) {
                        restartVerifier(ctx, live, "A table's columns changed on both sides: continuous "
                                + "verification ");
                    }
                }
                Figures f = Figures.streaming(stream, ctx.verifier,
                        ctx.store.routing().shadowMismatchRate(m.id(), Figures.MIN_SHADOW_READS));
                Optional<AbortWatch.Crossing> crossed = f.crossed(watch, now);
                alerts.evaluate(f.alertValues(watch.errorRate()));
                if (crossed.isPresent()) {
                    alerts.resolveAll("the migration aborted");
                    return Optional.of(abort(ctx, crossed.get()));
                }
            }
            if (now >= nextReport) {
                report(ctx);
                nextReport = now + TimeUnit.SECONDS.toNanos(5);
            }
            if (inSync && now >= nextSync) {
                nextSync = now + TimeUnit.SECONDS.toNanos(1);
                if (stream.syncedNow(Duration.ofSeconds(30))) {
                    alerts.resolveAll("the migration completed");
                    return Optional.of(completeInSync(ctx));
                }
            }
            Thread.sleep(200);
        }
    }

    /** Runs a requested cutover; true once cut over (the reverse stream runs, the forward one is gone). */
    private static boolean cutOver(RunContext ctx) {
        // the strategy as stored now: a time window PATCHed since the start holds
        Cutover.Result r = new Cutover(ctx.store, ctx.tables.with(ctx.policies.now()), ctx::say, "tandem cutover")
                .cutover(ctx.forward, ctx.verifier);
        if (!r.ok()) {
            return false;
        }
        if (ctx.verifier != null) {
            ctx.forward.applier().onApplied(null);
            ctx.verifier.close();
            ctx.verifier = null;
        }
        ctx.forward = null;
        ctx.reverse = r.reverse();
        return true;
    }

    /** tandem stop (or --immediate), Ctrl-C, a server's pause: the stream stops, the migration is paused. */
    private static MigrationOutcome stopped(RunContext ctx, Optional<Requests.Kind> request) {
        boolean immediate = request.map(k -> k == Requests.Kind.STOP_IMMEDIATE).orElse(ctx.stop.immediate());
        ctx.rollBackInFlight = immediate;
        ctx.forward.stop(immediate);
        String who = request.isPresent() ? "tandem stop" + (immediate ? " --immediate" : "") : ctx.stop.why();
        ctx.store.migrations().transition(ctx.id(), LifecycleEvent.PAUSE, null, "operator", who);
        MigrationOutcome o = ctx.outcome(null, "streaming stopped by " + who + " at " + ctx.position()
                + "; continue with: tandem migrate -f MANIFEST");
        return new MigrationOutcome(o.migrationId(), o.status(), o.backfill(), o.schemaActions(), null, o.message(),
                request.isEmpty());
    }

    /**
     * An abort threshold was crossed: the migration aborts by itself (DESIGN.md control plane) like tandem abort —
     * its stream stops at once, then {@link MigrationControl#abandon}: the audit row names the threshold, the value
     * and the limit; the slot and publication are dropped; rolled_back. The target's tables are left as they are.
     */
    private static MigrationOutcome abort(RunContext ctx, AbortWatch.Crossing crossed) {
        String why = crossed.describe();
        ctx.say("ABORTING: " + why);
        ctx.rollBackInFlight = true;
        ctx.forward.stop(true);
        long verifyRun = ctx.verifier == null ? -1 : ctx.verifier.runId();
        if (ctx.verifier != null) {
            ctx.verifier.close();
            ctx.verifier = null;
        }
        ErrorCode code = crossed.threshold().equals("drift_rows") ? ErrorCode.DRIFT_FOUND : ErrorCode.BAD_STATE;
        try {
            new MigrationControl(ctx.store).abandon(ctx.manifest(), "tandem (abort_thresholds)", why, ctx::say);
        } catch (TandemException e) {
            return ctx.outcome(code, why + "; " + e.getMessage());
        }
        return ctx.outcome(code, why + "; the migration was aborted (" + ctx.status().state().wire() + "): its "
                + "change stream was dropped, the target's tables were left as they are"
                + (verifyRun < 0 ? "" : "; drift is listed under verify run " + verifyRun));
    }

    /** stop_when: in_sync reached: sequences set again, the stream dropped, completed. */
    private MigrationOutcome completeInSync(RunContext ctx) {
        Manifest m = ctx.manifest();
        ctx.forward.stop(false);
        String at = ctx.position();
        ctx.say("In sync at " + at + ": the target holds every change the source committed.");
        try {
            schema.finish(ctx, true);
            Streams.dropForward(m, ctx.source(), ctx.target());
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "in sync, but finishing failed: " + m.source().scrub(
                    m.target().scrub(e.getMessage())) + "; run tandem migrate -f MANIFEST again to finish", e);
        }
        ctx.transition(LifecycleEvent.ADVANCE, Phase.CLEANUP, "in sync at " + at
                + " (continuous.stop_when: in_sync); slot and publication dropped");
        ctx.transition(LifecycleEvent.COMPLETE, null, "in sync at " + at);
        return ctx.outcome(null, "in sync at " + at + "; the change stream's slot and publication were dropped");
    }

    /** Every five seconds, for the operator: changes applied, lag, and what continuous verification did. */
    private static void report(RunContext ctx) {
        LagSample s = ctx.forward.lastSample();
        if (s == null) {
            return;
        }
        ContinuousVerifier v = ctx.verifier;
        ctx.say(String.format(Locale.ROOT, "  streaming: %,d changes applied; lag %.1f s, %,d records, %s%s",
                ctx.forward.applier().applied(), s.seconds(), s.records(), dev.tandem.core.plan.Sizes.bytes(s.bytes()),
                v == null ? "" : String.format(Locale.ROOT, "; verified %,d applied rows, %d passes, drift %d",
                        v.keysChecked(), v.passes(), v.confirmed())));
    }

    /**
     * A PATCHed {@code validation}, or a table altered on both sides: continuous verification stops and starts again
     * under the validation and the tables as they are now (or stays off).
     */
    private static void restartVerifier(RunContext ctx, Manifest live, String why) {
        if (ctx.verifier != null) {
            ctx.forward.applier().onApplied(null);
            ctx.verifier.close();
            ctx.verifier = null;
        }
        ctx.say(why + (live.validation().continuous() && live.validation().mode() != Validation.Mode.NONE
                ? "starts again under it" : "is off now"));
        ctx.verifier = continuousVerifier(ctx, live);
    }

    /** Continuous verification of {@code validation}, started; null when it is off or cannot run here. */
    private static ContinuousVerifier continuousVerifier(RunContext ctx, Manifest m) {
        if (!m.validation().continuous() || m.validation().mode() == Validation.Mode.NONE) {
            return null;
        }
        Optional<String> why = ContinuousVerifier.whyNot(ctx.source(), ctx.target());
        if (why.isPresent()) {
            ctx.say("Not verifying continuously: " + why.get());
            return null;
        }
        ChangeStreamRunner stream = ctx.forward;
        ContinuousVerifier v;
        try {
            v = new ContinuousVerifier(ctx.store, ctx.tables.with(m), ctx.tables.copyJobs(), stream::fenceApplied,
                    ctx::say);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.TARGET, "cannot read the target's tables: " + m.target().scrub(
                    e.getMessage()), e);
        }
        stream.applier().onApplied(v);
        v.start();
        ctx.say("Verifying continuously (run " + v.runId() + "): every applied row shortly after its apply, and "
                + "full passes at up to " + m.validation().rowsPerSecond() + " rows/s"
                + (m.validation().repair() ? "; drift is repaired from the source" : ""));
        return v;
    }
}
