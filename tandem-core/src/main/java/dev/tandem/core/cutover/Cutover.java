package dev.tandem.core.cutover;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.Strategy;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Routing;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.verify.ContinuousVerifier;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The cutover (DESIGN.md correctness point 7), run by the process that streams the migration, between two batches of
 * its loop. Each step timed ({@link StepClock}):
 * <ol>
 *   <li>prepare — before anything is frozen: connections to both sides, the names of the sequences to set;
 *       continuous verification stops starting chunks of its full passes and compares applied rows sooner, so
 *       little is left for the frozen verify step;</li>
 *   <li>freeze — the routing state says writes are frozen (a new epoch): every router closes its write gate, lets
 *       the write transactions in flight finish, and only then acknowledges;</li>
 *   <li>routers — wait until every live router (one that asked for the routing state within
 *       {@link Routing#LIVE_WINDOW}) acknowledged the freeze epoch: from then on no write can reach the source;</li>
 *   <li>sync — a fence written on the source after that comes back applied: lag 0 at the frozen position;</li>
 *   <li>verify — the rows the stream applied and continuous verification has not compared yet are compared now;
 *       unrepaired drift stops the cutover;</li>
 *   <li>sequences — the target's sequences are set past the source's;</li>
 *   <li>reverse — the reverse stream's slot is created on the target, at its current position, before anything is
 *       written there;</li>
 *   <li>flip — phase cutover, and the routing state says cut over and unfrozen (one epoch): routers release the
 *       waiting transactions to the target.</li>
 * </ol>
 * Any step failing or running past the freeze timeout returns routing to the source (unfrozen, not cut over), drops
 * what the cutover created, and reports the step; the forward stream never stopped. After the flip the forward stream
 * stops, its slot and publication are dropped (the reverse stream will write to the source; the forward one must not
 * copy that back), and the reverse stream starts. The write pause each router measured is gathered from their
 * acknowledgements of the flip ({@link WritePause}).
 * <p>Hazard: the ack of step 2 is the fence. A router partitioned from the control plane for longer than the live
 * window is not waited for, and would keep writing to the source on its last state — deployments must make every
 * writer go through a router that reaches the control plane.
 */
public final class Cutover {
    private final ControlStore store;
    private final Tables tables;
    private final Manifest m;
    private final List<TableJob> jobs;
    private final Consumer<String> say;
    private final String actor;
    private final WritePause routers;

    /** @param ok false when a step failed; the report says which */
    public record Result(boolean ok, CutoverReport report, ChangeStreamRunner reverse) {
    }

    public Cutover(ControlStore store, Tables tables, Consumer<String> say, String actor) {
        this.store = store;
        this.tables = tables;
        this.m = tables.manifest();
        this.jobs = jobsOf(tables);
        this.say = say;
        this.actor = actor;
        this.routers = new WritePause(store, m.id());
    }

    static List<TableJob> jobsOf(Tables tables) {
        try {
            return tables.copyJobs();
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.TARGET, "cannot read the target's tables: " + tables.manifest()
                    .target().scrub(e.getMessage()), e);
        }
    }

    /**
     * Runs the cutover. On success the forward stream is stopped and dropped and the returned reverse stream runs;
     * on failure the forward stream still runs and routing is back on the source.
     */
    public Result cutover(ChangeStreamRunner forward, ContinuousVerifier verifier) {
        StepClock clock = new StepClock("cutover", actor);
        Routing.Control control = store.routing().get(m.id());
        if (m.strategy() instanceof Strategy.TimeWindow w && !w.allows(Instant.now())) {
            clock.begin("window");
            return failed(clock, "strategy time_window allows the cutover only from " + w.windowStart() + " to "
                    + w.windowEnd() + "; it is " + Instant.now(), control, false);
        }
        boolean reverseOpened = false;
        clock.begin("prepare");
        // connections and the sequences' names before the freeze: the frozen steps only run their queries
        try (Connection s = tables.source().connect(); Connection t = tables.target().connect()) {
            List<String> sequences = schemaCopier().sequences(s, sourceTables());
            prepareVerifier(clock, verifier);
            Frozen f = freeze(clock, control);
            if (f.missing() != null) {
                return failed(clock, "not every live router acknowledged the freeze within "
                        + control.freezeTimeoutMs() + " ms: " + f.missing() + " (a router acknowledges once its "
                        + "write transactions in flight finished)", control, false);
            }
            String why = syncAndVerify(clock, forward, verifier, f);
            if (why != null) {
                return failed(clock, why, control, false);
            }
            clock.begin("sequences");
            clock.sequences(schemaCopier().syncSequences(s, t, sequences));
            clock.begin("reverse");
            Streams.openReverse(store, m.id(), tables.target(), jobs);
            reverseOpened = true;
            if (System.nanoTime() > f.deadline()) {
                return failed(clock, "the steps took longer than the freeze timeout (" + control.freezeTimeoutMs()
                        + " ms)", control, true);
            }
            return flip(clock, control, f, forward);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(clock, "interrupted", control, reverseOpened);
        } catch (SQLException | RuntimeException e) {
            String why = m.target().scrub(m.source().scrub(String.valueOf(e.getMessage())));
            if (store.routing().get(m.id()).cutOver()) {
                // past the flip: the target is authoritative; report and keep going
                throw new TandemException(ErrorCode.TARGET, "cut over, but " + clock.current() + " failed: " + why
                        + "; the migration resumes the reverse stream when it is run again", e);
            }
            return failed(clock, why, control, reverseOpened);
        } finally {
            if (verifier != null) {
                verifier.prepareCutover(false); // a failed cutover streams (and verifies) on
            }
        }
    }

    /** Not frozen yet (waiting here costs no write pause): continuous verification hurries and catches up. */
    private static void prepareVerifier(StepClock clock, ContinuousVerifier verifier) throws InterruptedException {
        if (verifier == null) {
            return;
        }
        verifier.prepareCutover(true);
        String note = verifier.awaitQuiet(Duration.ofSeconds(10)) ? null
                : "continuous verification was behind the stream at the freeze";
        clock.verification(new CutoverReport.Verification(0, verifier.queuedKeys(), note));
    }

    /** The freeze: its epoch, the live routers, when it must end, and who did not acknowledge it (null: all did). */
    private record Frozen(long epoch, List<String> live, long start, long deadline, String missing) {
    }

    private Frozen freeze(StepClock clock, Routing.Control control) throws InterruptedException {
        long budgetMs = control.freezeTimeoutMs();
        say.accept("Cutover: freezing writes (routers hold new write transactions up to " + budgetMs + " ms) ...");
        clock.begin("freeze");
        List<String> live = store.routing().live(m.id()).stream().map(Routing.Router::routerId).toList();
        long epoch = store.routing().set(m.id(), control.frozen(true), actor, "writes frozen for the cutover");
        long start = System.nanoTime();
        long deadline = start + budgetMs * 1_000_000L;
        clock.frozen(epoch, live);
        clock.begin("routers");
        String missing = routers.awaitAcks(live, epoch, deadline);
        if (missing == null && live.isEmpty()) {
            say.accept("  no router is following this migration: writes made outside routers are not frozen");
            clock.warning("no live router: writes made outside routers were not frozen");
        }
        return new Frozen(epoch, live, start, deadline, missing);
    }

    /** Lag 0 at the frozen position, then the applied rows compared; null when both held, else why not. */
    private String syncAndVerify(StepClock clock, ChangeStreamRunner forward, ContinuousVerifier verifier, Frozen f)
            throws InterruptedException {
        long budgetMs = (f.deadline() - f.start()) / 1_000_000L;
        clock.begin("sync");
        if (!forward.syncedNow(remaining(f.deadline()))) {
            return "the target did not apply the source's changes up to the frozen position within the freeze "
                    + "timeout (" + budgetMs + " ms)";
        }
        clock.begin("verify");
        if (verifier == null) {
            clock.verification(new CutoverReport.Verification(0, null, "validation.continuous is off: rows were not "
                    + "compared at the cutover; run tandem verify first"));
            return null;
        }
        long before = verifier.keysChecked();
        if (!verifier.checkAppliedNow(remaining(f.deadline()))) {
            return "continuous verification did not compare the applied rows within the freeze timeout";
        }
        CutoverReport.Verification v = clock.verification();
        clock.verification(new CutoverReport.Verification(verifier.keysChecked() - before,
                v == null ? null : v.keysQueued(), v == null ? null : v.note()));
        if (verifier.driftRows() > 0) {
            return verifier.driftRows() + " rows differ between source and target and are not repaired (verify run "
                    + verifier.runId() + "); repair them (tandem verify --repair) before the cutover";
        }
        return null;
    }

    /** Phase cutover and routing to the target (one epoch); then the forward stream goes, the reverse one comes. */
    private Result flip(StepClock clock, Routing.Control control, Frozen f, ChangeStreamRunner forward)
            throws SQLException, InterruptedException {
        clock.begin("flip");
        store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.CUTOVER, actor,
                "cutover: lag 0 at the frozen position, reverse stream opened");
        long flipEpoch = store.routing().set(m.id(), control.frozen(false).cutOver(true), actor,
                "cut over to the target; writes unfrozen");
        clock.flipped(flipEpoch, System.nanoTime() - f.start());
        clock.end();
        say.accept(String.format(Locale.ROOT, "Cut over to the target at epoch %d: writes were frozen %.1f ms",
                flipEpoch, clock.freezeMs()));
        // after the flip: the forward stream must not copy the reverse stream's writes back
        clock.begin("forward_stream_dropped");
        forward.stop(false);
        Streams.dropForward(m, tables.source(), tables.target());
        store.positions().delete(m.id(), StreamDirection.FORWARD);
        clock.begin("reverse_stream_started");
        ChangeStreamRunner reverse = ChangeStreamRunner.reverse(store, tables, say);
        reverse.start();
        clock.begin("write_pause");
        clock.writePause(routers.after(f.live(), f.epoch(), flipEpoch));
        CutoverReport report = clock.completed();
        store.routing().set(m.id(), store.routing().get(m.id()).last(report.toJson()), actor, "cutover report");
        return new Result(true, report, reverse);
    }

    private Result failed(StepClock clock, String why, Routing.Control before, boolean reverseOpened) {
        CutoverReport report = clock.failed(why);
        say.accept("Cutover FAILED at step " + report.failedStep() + ": " + why + "; routing is back on the source");
        if (reverseOpened) {
            try {
                Streams.dropReverse(store, m.id(), tables.target());
            } catch (SQLException | RuntimeException e) {
                say.accept("  could not drop the reverse stream's slot on the target: " + m.target().scrub(
                        String.valueOf(e.getMessage())) + "; the next cutover recreates it");
            }
        }
        store.routing().set(m.id(), before.frozen(false).cutOver(false).last(report.toJson()), actor,
                "cutover failed at " + report.failedStep() + ": " + why + "; routing back to the source");
        return new Result(false, report, null);
    }

    private List<TableInfo> sourceTables() {
        return jobs.stream().map(TableJob::source).toList();
    }

    private SchemaCopier schemaCopier() {
        return schemaCopier(tables);
    }

    static SchemaCopier schemaCopier(Tables tables) {
        return tables.source().schemaCopier(tables.target().name()).orElseThrow(() ->
                TandemException.badInput("cannot set " + tables.target().name() + " sequences from "
                        + tables.source().name() + " at the cutover"));
    }

    static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1_000_000L, deadlineNanos - System.nanoTime()));
    }
}
