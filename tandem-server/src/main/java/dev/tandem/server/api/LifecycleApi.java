package dev.tandem.server.api;

import static dev.tandem.server.api.ApiCalls.actor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.cutover.CutoverReport;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.migrate.PhaseGates;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Requests;
import dev.tandem.server.wire.Json;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.time.Duration;
import java.util.Locale;

/**
 * What an operator does to a migration through the API: migrate, pause, resume, stop, abort, verify, advance through
 * the phase gates, and the procedures run by the process streaming it — cutover, rollback, cleanup — which answer with
 * their report.
 */
final class LifecycleApi {
    private final ControlStore store;
    private final Orchestrator orchestrator;
    private final ApiCalls calls;

    LifecycleApi(ApiCalls calls) {
        this.calls = calls;
        this.store = calls.store;
        this.orchestrator = calls.orchestrator;
    }

    void register(ApiCalls.Routes r, String base) {
        String one = base + "/migrations/{id}";
        r.add(HandlerType.POST, one + "/migrate", Tokens.Role.ADMIN, "Start: prepare, backfill, catch_up",
                this::migrate);
        r.add(HandlerType.POST, one + "/advance", Tokens.Role.ADMIN, "Move to the next phase if its gate holds",
                this::advance);
        r.add(HandlerType.POST, one + "/pause", Tokens.Role.ADMIN, "Pause a running migration", this::pause);
        r.add(HandlerType.POST, one + "/resume", Tokens.Role.ADMIN, "Resume a paused migration", this::resume);
        r.add(HandlerType.POST, one + "/stop", Tokens.Role.ADMIN,
                "Stop streaming after the current batch (?immediate=true: at once)", this::stop);
        r.add(HandlerType.POST, one + "/cutover", Tokens.Role.ADMIN, "Cutover: freeze writes through the routers, "
                + "sync, verify, sequences, reverse stream, flip; answers with the report (write pause)",
                this::cutover);
        r.add(HandlerType.POST, one + "/rollback", Tokens.Role.ADMIN, "After a cutover: freeze, let the reverse "
                + "stream catch up, flip back to the source; rolled_back", this::rollback);
        r.add(HandlerType.POST, one + "/cleanup", Tokens.Role.ADMIN, "After a cutover: drop the streams, archive the "
                + "audit, completed", this::cleanup);
        r.add(HandlerType.POST, one + "/abort", Tokens.Role.ADMIN,
                "Abandon before cutover: stop, drop the stream, rolled_back", this::abort);
        r.add(HandlerType.POST, one + "/verify", Tokens.Role.ADMIN,
                "Verify source and target (lag-aware; ?repair=true repairs)", this::verify);
    }

    void migrate(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        orchestrator.migrate(r.id(), actor(ctx));
        ctx.status(202);
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    void pause(Context ctx) throws InterruptedException {
        MigrationRecord r = calls.record(ctx);
        orchestrator.pause(r.id(), actor(ctx), false);
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    void resume(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        orchestrator.resume(r.id(), actor(ctx));
        ctx.status(202);
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    /** seed 000's stop: finish the current batch (or, with {@code ?immediate=true}, roll it back) and pause. */
    void stop(Context ctx) throws InterruptedException {
        MigrationRecord r = calls.record(ctx);
        if (r.status().state() != MigrationState.RUNNING) {
            throw TandemException.badState("cannot stop migration " + r.id() + ": expected state running, actual "
                    + r.status().state().wire());
        }
        orchestrator.pause(r.id(), actor(ctx), ctx.queryParamAsClass("immediate", Boolean.class).getOrDefault(false));
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    void abort(Context ctx) throws InterruptedException {
        MigrationRecord r = calls.record(ctx);
        orchestrator.abort(r.id(), actor(ctx));
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    void verify(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        calls.runnable(r);
        orchestrator.verify(r.id(), ctx.queryParamAsClass("repair", Boolean.class).getOrDefault(false));
        ctx.status(202);
        Envelope.ok(ctx, Json.MAPPER.createObjectNode().put("verifying", true).put("migration_id", r.id()));
    }

    /** seed 001's advance: to the next phase (or {@code {"phase": ...}}) when the gate holds ({@link PhaseGates}). */
    void advance(Context ctx) {
        MigrationRecord r = calls.record(ctx);
        JsonNode body = ApiCalls.objectOrEmpty(ctx);
        Phase to = null;
        if (body.hasNonNull("phase")) {
            try {
                to = Phase.fromWire(body.get("phase").asText());
            } catch (IllegalArgumentException e) {
                throw TandemException.badInput("phase: '" + body.get("phase").asText() + "' is not a phase; use one "
                        + "of prepare, backfill, catch_up, shadow, cutover, cleanup");
            }
        }
        if (r.status().state() != MigrationState.RUNNING) {
            throw TandemException.badState("cannot advance migration " + r.id() + ": expected state running, actual "
                    + r.status().state().wire());
        }
        Phase next = to != null ? to : PhaseGates.next(r.status().phase(), calls.runnable(r));
        if (next == Phase.CUTOVER && r.status().phase().isBefore(Phase.CUTOVER)) {
            procedure(ctx, r, Requests.Kind.CUTOVER);
            return;
        }
        if (next == Phase.CLEANUP && r.status().phase() == Phase.CUTOVER) {
            procedure(ctx, r, Requests.Kind.CLEANUP);
            return;
        }
        new PhaseGates(store).advance(r, calls.runnable(r), to, actor(ctx));
        orchestrator.publishState(r.id());
        Envelope.ok(ctx, calls.migration(r.id()));
    }

    void cutover(Context ctx) throws InterruptedException {
        procedure(ctx, calls.record(ctx), Requests.Kind.CUTOVER);
    }

    void rollback(Context ctx) throws InterruptedException {
        procedure(ctx, calls.record(ctx), Requests.Kind.ROLLBACK);
    }

    void cleanup(Context ctx) throws InterruptedException {
        procedure(ctx, calls.record(ctx), Requests.Kind.CLEANUP);
    }

    /**
     * Runs a cutover, rollback or cleanup through the process streaming the migration and answers with its report
     * (steps with their times, the write pause); a failed one is a 409 naming the step (routing is back where it was).
     */
    private void procedure(Context ctx, MigrationRecord r, Requests.Kind kind) {
        CutoverReport report;
        try {
            report = new MigrationControl(store, orchestrator.env()).procedure(r.id(), kind, actor(ctx),
                    Duration.ofSeconds(120));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw TandemException.badState("interrupted while waiting for the " + kind.name().toLowerCase(
                    Locale.ROOT));
        }
        orchestrator.publishState(r.id());
        if (!report.completed()) {
            throw TandemException.badState("the " + report.procedure() + " of migration " + r.id()
                    + " failed at step " + report.failedStep() + ": " + report.error()
                    + (kind == Requests.Kind.CUTOVER ? "; routing is back on the source" : "; routing stays on the "
                    + "target"));
        }
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.set("migration", calls.migration(r.id()));
        n.set("report", report.toJson());
        Envelope.ok(ctx, n);
    }
}
