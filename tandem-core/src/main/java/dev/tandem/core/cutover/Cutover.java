package dev.tandem.core.cutover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Routing;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.verify.ContinuousVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The cutover, the rollback after it and the cleanup (DESIGN.md correctness point 6), run by the process that
 * streams the migration, between two batches of its loop.
 * <p><b>Cutover</b>, each step timed:
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
 * copy that back), and the reverse stream starts. The write pause each router measured (every blocked transaction's
 * wait) is gathered from their acknowledgements of the flip: p50, p99 and max over all of them.
 * <p>Hazard: the ack of step 2 is the fence. A router partitioned from the control plane for longer than the live
 * window is not waited for, and would keep writing to the source on its last state — deployments must make every
 * writer go through a router that reaches the control plane.
 * <p><b>Rollback</b> mirrors it: freeze, acks, the reverse stream applied up to the frozen target position, the
 * source's sequences set past the target's, rolling_back, routing back to the source (unfrozen), reverse slot dropped,
 * rolled_back. The source then holds every write the target took. <b>Cleanup</b> stops and drops the reverse stream,
 * archives the audit and completes.
 */
public final class Cutover {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long to wait for routers to acknowledge the flip (and report their write pauses) after it. */
    private static final Duration FLIP_ACKS = Duration.ofSeconds(3);

    private final ControlStore store;
    private final Tables tables;
    private final Manifest m;
    private final Connector source;
    private final Connector target;
    private final List<TableJob> jobs;
    private final Consumer<String> say;
    private final String actor;

    /** @param ok false when a step failed; the report says which */
    public record Result(boolean ok, ObjectNode report, ChangeStreamRunner reverse) {
    }

    public Cutover(ControlStore store, Tables tables, Consumer<String> say, String actor) {
        this.store = store;
        this.tables = tables;
        this.m = tables.manifest();
        this.source = tables.source();
        this.target = tables.target();
        try {
            this.jobs = tables.copyJobs();
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.TARGET, "cannot read the target's tables: " + m.target().scrub(
                    e.getMessage()), e);
        }
        this.say = say;
        this.actor = actor;
    }

    /** What the procedures move, for the next procedure of the same migration. */
    public Tables tables() {
        return tables;
    }

    /**
     * A cutover or rollback killed midway: puts routing where the phase says — cut over (and unfrozen) in phase
     * cutover, on the source before it — and drops what the dead procedure left (the forward stream after a flip, a
     * reverse slot before one). Returns what it did, or null when nothing was needed.
     */
    public String recover(Phase phase) throws SQLException {
        Optional<Routing.Control> found = store.routing().find(m.id());
        if (found.isEmpty()) {
            return null;
        }
        Routing.Control c = found.get();
        if (phase == Phase.CUTOVER) {
            String done = null;
            if (!c.cutOver() || c.frozen()) {
                store.routing().set(m.id(), c.frozen(false).cutOver(true), actor, "recovered after a restart: cut "
                        + "over (the procedure that froze writes died)");
                done = "Routing set to the target, unfrozen (a procedure died with writes frozen)";
            }
            if (store.positions().find(m.id(), StreamDirection.FORWARD).isPresent()) {
                dropForward();
                done = (done == null ? "" : done + "; ") + "dropped the forward stream left by the cutover";
            }
            return done;
        }
        if (phase.isBefore(Phase.CUTOVER) && (c.frozen() || c.cutOver())) {
            store.routing().set(m.id(), c.frozen(false).cutOver(false), actor, "recovered after a restart: the "
                    + "cutover died before the flip; routing back to the source");
            if (store.positions().find(m.id(), StreamDirection.REVERSE).isPresent()) {
                dropReverse();
            }
            return "A cutover died before its flip: routing is back on the source, unfrozen";
        }
        return null;
    }

    /** The steps of one procedure, timed, into its report. */
    private static final class Steps {
        final ObjectNode report = JSON.createObjectNode();
        final ArrayNode list;
        final long start = System.nanoTime();
        String current;
        long stepStart;

        Steps(String procedure, String actor) {
            report.put("procedure", procedure);
            report.put("requested_by", actor);
            report.put("at", Instant.now().toString());
            list = report.putArray("steps");
        }

        void begin(String name) {
            end();
            current = name;
            stepStart = System.nanoTime();
        }

        void end() {
            if (current != null) {
                list.addObject().put("step", current).put("ms", ms(System.nanoTime() - stepStart));
                current = null;
            }
        }

        long elapsedMs() {
            return (System.nanoTime() - start) / 1_000_000;
        }

        ObjectNode failed(String why) {
            String step = current;
            end();
            report.put("outcome", "failed");
            report.put("failed_step", step);
            report.put("error", why);
            report.put("total_ms", elapsedMs());
            return report;
        }
    }

    private static double ms(long nanos) {
        return Math.round(nanos / 10_000.0) / 100.0;
    }

    /**
     * Runs the cutover. On success the forward stream is stopped and dropped and the returned reverse stream runs;
     * on failure the forward stream still runs and routing is back on the source.
     */
    public Result cutover(ChangeStreamRunner forward, ContinuousVerifier verifier) {
        Steps steps = new Steps("cutover", actor);
        Routing.Control control = store.routing().get(m.id());
        long budgetMs = control.freezeTimeoutMs();
        Optional<String> outside = outsideWindow(Instant.now());
        if (outside.isPresent()) {
            steps.begin("window");
            return failed(steps, outside.get(), control, false);
        }
        boolean reverseOpened = false;
        long frozenEpoch;
        steps.begin("prepare");
        // connections and the sequences' names before the freeze: the frozen steps only run their queries
        try (Connection s = source.connect(); Connection t = target.connect()) {
            List<String> sequences = schemaCopier().sequences(s, sourceTables());
            if (verifier != null) {
                // not frozen yet: waiting here costs no write pause
                verifier.prepareCutover(true);
                if (!verifier.awaitQuiet(Duration.ofSeconds(10))) {
                    steps.report.put("verify_note", "continuous verification was behind the stream at the freeze");
                }
                steps.report.put("verify_keys_queued", verifier.queuedKeys());
            }
            say.accept("Cutover: freezing writes (routers hold new write transactions up to " + budgetMs + " ms) ...");
            steps.begin("freeze");
            List<String> live = store.routing().live(m.id()).stream().map(Routing.Router::routerId).toList();
            frozenEpoch = store.routing().set(m.id(), control.frozen(true), actor, "writes frozen for the cutover");
            long freezeStart = System.nanoTime();
            long deadline = freezeStart + budgetMs * 1_000_000L;
            steps.report.put("frozen_epoch", frozenEpoch);
            steps.report.put("routers", live.size());
            steps.begin("routers");
            String missing = awaitAcks(live, frozenEpoch, deadline);
            if (missing != null) {
                return failed(steps, "not every live router acknowledged the freeze within " + budgetMs + " ms: "
                        + missing + " (a router acknowledges once its write transactions in flight finished)",
                        control, false);
            }
            if (live.isEmpty()) {
                say.accept("  no router is following this migration: writes made outside routers are not frozen");
                steps.report.put("warning", "no live router: writes made outside routers were not frozen");
            }
            steps.begin("sync");
            if (!forward.syncedNow(remaining(deadline))) {
                return failed(steps, "the target did not apply the source's changes up to the frozen position "
                        + "within the freeze timeout (" + budgetMs + " ms)", control, false);
            }
            steps.begin("verify");
            if (verifier != null) {
                long before = verifier.keysChecked();
                if (!verifier.checkAppliedNow(remaining(deadline))) {
                    return failed(steps, "continuous verification did not compare the applied rows within the "
                            + "freeze timeout", control, false);
                }
                steps.report.put("verified_rows", verifier.keysChecked() - before);
                if (verifier.driftRows() > 0) {
                    return failed(steps, verifier.driftRows() + " rows differ between source and target and are "
                            + "not repaired (verify run " + verifier.runId() + "); repair them (tandem verify "
                            + "--repair) before the cutover", control, false);
                }
            } else {
                steps.report.put("verified_rows", 0);
                steps.report.put("verify_note", "validation.continuous is off: rows were not compared at the "
                        + "cutover; run tandem verify first");
            }
            steps.begin("sequences");
            ArrayNode seqs = steps.report.putArray("sequences");
            schemaCopier().syncSequences(s, t, sequences).forEach(seqs::add);
            steps.begin("reverse");
            openReverse();
            reverseOpened = true;
            if (System.nanoTime() > deadline) {
                return failed(steps, "the steps took longer than the freeze timeout (" + budgetMs + " ms)", control,
                        true);
            }
            steps.begin("flip");
            store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.CUTOVER, actor,
                    "cutover: lag 0 at the frozen position, reverse stream opened");
            long flipEpoch = store.routing().set(m.id(), control.frozen(false).cutOver(true), actor,
                    "cut over to the target; writes unfrozen");
            steps.report.put("freeze_ms", ms(System.nanoTime() - freezeStart));
            steps.report.put("flipped_epoch", flipEpoch);
            steps.end();
            say.accept(String.format(java.util.Locale.ROOT, "Cut over to the target at epoch %d: writes were frozen "
                    + "%.1f ms", flipEpoch, steps.report.get("freeze_ms").asDouble()));
            // after the flip: the forward stream must not copy the reverse stream's writes back
            steps.begin("forward_stream_dropped");
            forward.stop(false);
            dropForward();
            steps.begin("reverse_stream_started");
            ChangeStreamRunner reverse = Streams.reverse(store, tables, say);
            reverse.start();
            steps.begin("write_pause");
            steps.report.set("write_pause", writePause(live, frozenEpoch, flipEpoch));
            steps.end();
            steps.report.put("outcome", "completed");
            steps.report.put("total_ms", steps.elapsedMs());
            store.routing().set(m.id(), store.routing().get(m.id()).last(steps.report), actor, "cutover report");
            return new Result(true, steps.report, reverse);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(steps, "interrupted", control, reverseOpened);
        } catch (SQLException | RuntimeException e) {
            String why = m.target().scrub(m.source().scrub(String.valueOf(e.getMessage())));
            if (store.routing().get(m.id()).cutOver()) {
                // past the flip: the target is authoritative; report and keep going
                throw new TandemException(ErrorCode.TARGET, "cut over, but " + steps.current + " failed: " + why
                        + "; the migration resumes the reverse stream when it is run again", e);
            }
            return failed(steps, why, control, reverseOpened);
        } finally {
            if (verifier != null) {
                verifier.prepareCutover(false); // a failed cutover streams (and verifies) on
            }
        }
    }

    /**
     * Rolls a cut over migration back to the source. On success the migration is rolled_back and the reverse stream
     * stopped and dropped; on failure routing stays on the target (unfrozen) and the reverse stream runs.
     */
    public Result rollback(ChangeStreamRunner reverse) {
        Steps steps = new Steps("rollback", actor);
        Routing.Control control = store.routing().get(m.id());
        long budgetMs = control.freezeTimeoutMs();
        steps.begin("prepare");
        try (Connection s = source.connect(); Connection t = target.connect()) {
            List<String> sequences = schemaCopier().sequences(t, sourceTables());
            say.accept("Rollback: freezing writes on the target ...");
            steps.begin("freeze");
            List<String> live = store.routing().live(m.id()).stream().map(Routing.Router::routerId).toList();
            long frozenEpoch = store.routing().set(m.id(), control.frozen(true), actor,
                    "writes frozen for the rollback");
            long freezeStart = System.nanoTime();
            long deadline = freezeStart + budgetMs * 1_000_000L;
            steps.report.put("frozen_epoch", frozenEpoch);
            steps.report.put("routers", live.size());
            steps.begin("routers");
            String missing = awaitAcks(live, frozenEpoch, deadline);
            if (missing != null) {
                return failedRollback(steps, "not every live router acknowledged the freeze within " + budgetMs
                        + " ms: " + missing, control);
            }
            steps.begin("sync");
            if (!reverse.syncedNow(remaining(deadline))) {
                return failedRollback(steps, "the source did not apply the target's changes up to the frozen "
                        + "position within the freeze timeout (" + budgetMs + " ms)", control);
            }
            steps.begin("sequences");
            ArrayNode seqs = steps.report.putArray("sequences");
            schemaCopier().syncSequences(t, s, sequences).forEach(seqs::add);
            steps.begin("flip");
            reverse.stop(false);
            store.migrations().transition(m.id(), LifecycleEvent.ABORT, null, actor,
                    "rollback: the source holds every write the target took");
            long flipEpoch = store.routing().set(m.id(), control.frozen(false).cutOver(false), actor,
                    "rolled back to the source; writes unfrozen");
            steps.report.put("freeze_ms", ms(System.nanoTime() - freezeStart));
            steps.report.put("flipped_epoch", flipEpoch);
            steps.begin("reverse_stream_dropped");
            dropReverse();
            steps.begin("write_pause");
            steps.report.set("write_pause", writePause(live, frozenEpoch, flipEpoch));
            steps.end();
            steps.report.put("outcome", "completed");
            steps.report.put("total_ms", steps.elapsedMs());
            store.migrations().transition(m.id(), LifecycleEvent.ROLLBACK_DONE, null, actor,
                    "rolled back to the source; the reverse stream's slot was dropped");
            // last: the requester waits for this report, and then expects rolled_back
            store.routing().set(m.id(), store.routing().get(m.id()).last(steps.report), actor, "rollback report");
            say.accept("Rolled back to the source: writes were frozen " + steps.report.get("freeze_ms").asDouble()
                    + " ms");
            return new Result(true, steps.report, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failedRollback(steps, "interrupted", control);
        } catch (SQLException | RuntimeException e) {
            String why = m.target().scrub(m.source().scrub(String.valueOf(e.getMessage())));
            if (!store.routing().get(m.id()).cutOver()) {
                throw new TandemException(ErrorCode.SOURCE, "rolled back to the source, but " + steps.current
                        + " failed: " + why + "; finish with tandem abort " + m.id(), e);
            }
            return failedRollback(steps, why, control);
        }
    }

    /** After the confidence window: the reverse stream stopped and dropped, the audit archived, completed. */
    public String cleanup(ChangeStreamRunner reverse) throws SQLException {
        if (reverse != null) {
            reverse.stop(false);
        }
        dropReverse();
        store.migrations().transition(m.id(), LifecycleEvent.ADVANCE, Phase.CLEANUP, actor,
                "cleanup: reverse stream dropped; rollback is no longer possible");
        String archived = archiveAudit();
        store.migrations().transition(m.id(), LifecycleEvent.COMPLETE, null, actor, "cleanup done; " + archived);
        return archived;
    }

    private List<TableInfo> sourceTables() {
        return jobs.stream().map(TableJob::source).toList();
    }

    private SchemaCopier schemaCopier() {
        return source.schemaCopier().filter(sc -> sc.supports(target)).orElseThrow(() -> TandemException.badInput(
                "cannot set " + target.name() + " sequences from " + source.name() + " at the cutover"));
    }

    private Optional<String> outsideWindow(Instant now) {
        if (!(m.strategy() instanceof Strategy.TimeWindow w)) {
            return Optional.empty();
        }
        boolean inside = (w.windowStart() == null || !now.isBefore(w.windowStart()))
                && (w.windowEnd() == null || now.isBefore(w.windowEnd()));
        return inside ? Optional.empty() : Optional.of("strategy time_window allows the cutover only from "
                + w.windowStart() + " to " + w.windowEnd() + "; it is " + now);
    }

    /** Null when every router in {@code live} acknowledged {@code epoch}; else who did not. */
    private String awaitAcks(List<String> live, long epoch, long deadline) throws InterruptedException {
        Set<String> wanted = new HashSet<>(live);
        while (true) {
            List<String> behind = new ArrayList<>();
            for (Routing.Router r : store.routing().routers(m.id())) {
                if (wanted.contains(r.routerId()) && r.epoch() < epoch) {
                    behind.add(r.routerId() + " (at epoch " + r.epoch() + ")");
                }
            }
            if (behind.isEmpty()) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return String.join(", ", behind);
            }
            store.awaitChange(2);
        }
    }

    /** Every router's blocked transactions of the freeze at {@code frozenEpoch}: p50, p99, max. */
    private ObjectNode writePause(List<String> live, long frozenEpoch, long flipEpoch) throws InterruptedException {
        long deadline = System.nanoTime() + FLIP_ACKS.toNanos();
        awaitAcks(live, flipEpoch, deadline);
        List<Long> waits = new ArrayList<>();
        long blocked = 0;
        long timeouts = 0;
        int reporting = 0;
        for (Routing.Router r : store.routing().routers(m.id())) {
            JsonNode p = r.report() == null ? null : r.report().get("write_pause");
            if (p == null || p.path("frozen_epoch").asLong() != frozenEpoch) {
                continue;
            }
            reporting++;
            blocked += p.path("blocked").asLong();
            timeouts += p.path("timeouts").asLong();
            p.path("waits_us").forEach(w -> waits.add(w.asLong()));
        }
        long[] sorted = waits.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        ObjectNode n = JSON.createObjectNode();
        n.put("routers_reporting", reporting);
        n.put("blocked_transactions", blocked);
        n.put("timeouts", timeouts);
        n.put("p50_ms", percentile(sorted, 0.50));
        n.put("p99_ms", percentile(sorted, 0.99));
        n.put("max_ms", sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1000.0);
        return n;
    }

    static double percentile(long[] sortedMicros, double p) {
        if (sortedMicros.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p * sortedMicros.length) - 1;
        return sortedMicros[Math.max(0, Math.min(sortedMicros.length - 1, i))] / 1000.0;
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(1_000_000L, deadlineNanos - System.nanoTime()));
    }

    private Result failed(Steps steps, String why, Routing.Control before, boolean reverseOpened) {
        ObjectNode report = steps.failed(why);
        say.accept("Cutover FAILED at step " + report.path("failed_step").asText() + ": " + why
                + "; routing is back on the source");
        if (reverseOpened) {
            try {
                dropReverse();
            } catch (SQLException | RuntimeException e) {
                say.accept("  could not drop the reverse stream's slot on the target: " + m.target().scrub(
                        String.valueOf(e.getMessage())) + "; the next cutover recreates it");
            }
        }
        store.routing().set(m.id(), before.frozen(false).cutOver(false).last(report), actor,
                "cutover failed at " + report.path("failed_step").asText() + ": " + why + "; routing back to the "
                        + "source");
        return new Result(false, report, null);
    }

    private Result failedRollback(Steps steps, String why, Routing.Control before) {
        ObjectNode report = steps.failed(why);
        say.accept("Rollback FAILED at step " + report.path("failed_step").asText() + ": " + why
                + "; routing stays on the target");
        store.routing().set(m.id(), before.frozen(false).cutOver(true).last(report), actor,
                "rollback failed at " + report.path("failed_step").asText() + ": " + why + "; routing stays on the "
                        + "target");
        return new Result(false, report, null);
    }

    private void openReverse() throws SQLException {
        Streams.openReverse(store, m.id(), target, jobs);
    }

    private void dropReverse() throws SQLException {
        Streams.dropReverse(store, m.id(), target);
    }

    private void dropForward() throws SQLException {
        Streams.dropForward(m, source, target);
        store.positions().delete(m.id(), StreamDirection.FORWARD);
    }

    /** The audit as JSON lines next to an embedded store; a PostgreSQL store keeps it in its tables. */
    private String archiveAudit() {
        if (store.display().startsWith("jdbc:")) {
            return "the audit stays in the control store";
        }
        Path file = Path.of(store.display()).resolve("archive").resolve(m.id() + "-audit.jsonl");
        StringBuilder b = new StringBuilder();
        for (AuditEntry e : store.audit().list(m.id())) {
            ObjectNode n = JSON.createObjectNode();
            n.put("at", e.occurredAt().toString());
            n.put("actor", e.actor());
            n.put("action", e.action());
            n.put("from", e.from() == null ? null : e.from().toString());
            n.put("to", e.to() == null ? null : e.to().toString());
            n.put("detail", e.detail());
            b.append(n).append('\n');
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, b);
        } catch (IOException e) {
            return "the audit could not be archived to " + file + " (" + e.getMessage() + "); it stays in the store";
        }
        return "audit archived to " + file;
    }
}
