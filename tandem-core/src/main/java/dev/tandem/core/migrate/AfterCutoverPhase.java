package dev.tandem.core.migrate;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.StreamFailure;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cutover.Rollback;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.Requests;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Phase cutover, after the flip: the target is authoritative and the reverse stream (target → source) applies its
 * writes to the source, so a rollback loses nothing. It runs until a rollback (back to the source: rolled_back), a
 * cleanup (the reverse stream dropped: completed), the operator's stop (paused; routing stays on the target) or the
 * reverse stream's failure.
 */
final class AfterCutoverPhase {

    Optional<MigrationOutcome> run(RunContext ctx) throws SQLException, InterruptedException {
        if (ctx.reverse == null) {
            ctx.reverse = ChangeStreamRunner.reverse(ctx.store, ctx.tables, ctx::say);
            ctx.reverse.start();
            ctx.say("Cut over to the target; the reverse stream (target → source) runs for a rollback");
        }
        while (true) {
            ChangeStreamRunner reverse = ctx.reverse;
            Optional<StreamFailure> failure = reverse.failure();
            if (failure.isPresent()) {
                ctx.rollBackInFlight = true;
                return Optional.of(ctx.streamFailed(failure.get(), "The target stays authoritative; fix the cause, "
                        + "then run the migration again: the reverse stream resumes from its confirmed position"));
            }
            Optional<Requests.Kind> request = ctx.store.requests().take(ctx.id());
            if (request.isPresent() && request.get() == Requests.Kind.ROLLBACK) {
                if (new Rollback(ctx.store, ctx.tables, ctx::say, "tandem rollback").rollback(reverse).ok()) {
                    ctx.reverse = null;
                    return Optional.of(ctx.outcome(null, "rolled back to the source: it holds every write the "
                            + "target took"));
                }
                continue;
            }
            if (request.isPresent() && request.get() == Requests.Kind.CLEANUP) {
                return Optional.of(cleanup(ctx));
            }
            if (request.isPresent() && request.get() == Requests.Kind.CUTOVER) {
                continue; // done already
            }
            if (request.isPresent() || ctx.stop.requested()) {
                boolean immediate = request.map(k -> k == Requests.Kind.STOP_IMMEDIATE).orElse(ctx.stop.immediate());
                ctx.rollBackInFlight = immediate;
                reverse.stop(immediate);
                String who = request.isPresent() ? "tandem stop" : ctx.stop.why();
                ctx.store.migrations().transition(ctx.id(), LifecycleEvent.PAUSE, null, "operator", who);
                MigrationOutcome o = ctx.outcome(null, "the reverse stream was stopped by " + who + "; routing stays "
                        + "on the target; continue with: tandem resume " + ctx.id());
                return Optional.of(new MigrationOutcome(o.migrationId(), o.status(), o.backfill(), o.schemaActions(),
                        null, o.message(), request.isEmpty()));
            }
            Thread.sleep(200);
        }
    }

    /** After the confidence window: the reverse stream stopped and dropped, the audit archived, completed. */
    private static MigrationOutcome cleanup(RunContext ctx) {
        try {
            ctx.reverse.stop(false);
            ctx.reverse = null;
            Streams.dropReverse(ctx.store, ctx.id(), ctx.target());
        } catch (SQLException e) {
            ctx.rollBackInFlight = true;
            throw new TandemException(ErrorCode.TARGET, "cleanup failed: " + ctx.manifest().target().scrub(
                    e.getMessage()) + "; run the migration again and repeat the cleanup", e);
        }
        String actor = "tandem cleanup";
        ctx.store.migrations().transition(ctx.id(), LifecycleEvent.ADVANCE, Phase.CLEANUP, actor,
                "cleanup: reverse stream dropped; rollback is no longer possible");
        String archived = ctx.store.audit().archive(ctx.id());
        ctx.store.migrations().transition(ctx.id(), LifecycleEvent.COMPLETE, null, actor, "cleanup done; " + archived);
        ctx.say("Cleanup done: the reverse stream was dropped; " + archived);
        return ctx.outcome(null, "completed: cut over to the target; " + archived);
    }
}
