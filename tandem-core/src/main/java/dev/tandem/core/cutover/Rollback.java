package dev.tandem.core.cutover;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Routing;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Consumer;

/**
 * The rollback after a cutover, mirroring it: freeze writes (now on the target), every live router acknowledges, the
 * reverse stream applied up to the frozen target position, the source's sequences set past the target's,
 * rolling_back, routing back to the source (unfrozen), the reverse slot dropped, rolled_back. The source then holds
 * every write the target took. A failing step leaves routing on the target (unfrozen) and the reverse stream running.
 */
public final class Rollback {
    private final ControlStore store;
    private final Tables tables;
    private final Manifest m;
    private final Consumer<String> say;
    private final String actor;
    private final WritePause routers;

    public Rollback(ControlStore store, Tables tables, Consumer<String> say, String actor) {
        this.store = store;
        this.tables = tables;
        this.m = tables.manifest();
        this.say = say;
        this.actor = actor;
        this.routers = new WritePause(store, m.id());
    }

    /**
     * Rolls the cut over migration back to the source. On success the migration is rolled_back and the reverse
     * stream stopped and dropped; on failure routing stays on the target (unfrozen) and the reverse stream runs.
     */
    public Cutover.Result rollback(ChangeStreamRunner reverse) {
        StepClock clock = new StepClock("rollback", actor);
        Routing.Control control = store.routing().get(m.id());
        long budgetMs = control.freezeTimeoutMs();
        clock.begin("prepare");
        try (Connection s = tables.source().connect(); Connection t = tables.target().connect()) {
            List<String> sequences = Cutover.schemaCopier(tables).sequences(t, Cutover.jobsOf(tables).stream()
                    .map(TableJob::source).toList());
            say.accept("Rollback: freezing writes on the target ...");
            clock.begin("freeze");
            List<String> live = store.routing().live(m.id()).stream().map(Routing.Router::routerId).toList();
            long frozenEpoch = store.routing().set(m.id(), control.frozen(true), actor,
                    "writes frozen for the rollback");
            long freezeStart = System.nanoTime();
            long deadline = freezeStart + budgetMs * 1_000_000L;
            clock.frozen(frozenEpoch, live);
            clock.begin("routers");
            String missing = routers.awaitAcks(live, frozenEpoch, deadline);
            if (missing != null) {
                return failed(clock, "not every live router acknowledged the freeze within " + budgetMs + " ms: "
                        + missing, control);
            }
            clock.begin("sync");
            if (!reverse.syncedNow(Cutover.remaining(deadline))) {
                return failed(clock, "the source did not apply the target's changes up to the frozen position "
                        + "within the freeze timeout (" + budgetMs + " ms)", control);
            }
            clock.begin("sequences");
            clock.sequences(Cutover.schemaCopier(tables).syncSequences(t, s, sequences));
            clock.begin("flip");
            reverse.stop(false);
            store.migrations().transition(m.id(), LifecycleEvent.ABORT, null, actor,
                    "rollback: the source holds every write the target took");
            long flipEpoch = store.routing().set(m.id(), control.frozen(false).cutOver(false), actor,
                    "rolled back to the source; writes unfrozen");
            clock.flipped(flipEpoch, System.nanoTime() - freezeStart);
            clock.begin("reverse_stream_dropped");
            Streams.dropReverse(store, m.id(), tables.target());
            clock.begin("write_pause");
            clock.writePause(routers.after(live, frozenEpoch, flipEpoch));
            CutoverReport report = clock.completed();
            store.migrations().transition(m.id(), LifecycleEvent.ROLLBACK_DONE, null, actor,
                    "rolled back to the source; the reverse stream's slot was dropped");
            // last: the requester waits for this report, and then expects rolled_back
            store.routing().set(m.id(), store.routing().get(m.id()).last(report.toJson()), actor, "rollback report");
            say.accept("Rolled back to the source: writes were frozen " + clock.freezeMs() + " ms");
            return new Cutover.Result(true, report, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(clock, "interrupted", control);
        } catch (SQLException | RuntimeException e) {
            String why = m.target().scrub(m.source().scrub(String.valueOf(e.getMessage())));
            if (!store.routing().get(m.id()).cutOver()) {
                throw new TandemException(ErrorCode.SOURCE, "rolled back to the source, but " + clock.current()
                        + " failed: " + why + "; finish with tandem abort " + m.id(), e);
            }
            return failed(clock, why, control);
        }
    }

    private Cutover.Result failed(StepClock clock, String why, Routing.Control before) {
        CutoverReport report = clock.failed(why);
        say.accept("Rollback FAILED at step " + report.failedStep() + ": " + why + "; routing stays on the target");
        store.routing().set(m.id(), before.frozen(false).cutOver(true).last(report.toJson()), actor,
                "rollback failed at " + report.failedStep() + ": " + why + "; routing stays on the target");
        return new Cutover.Result(false, report, null);
    }
}
