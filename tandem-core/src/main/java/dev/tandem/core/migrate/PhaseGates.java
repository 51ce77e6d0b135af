package dev.tandem.core.migrate;

import dev.tandem.core.cdc.LagReport;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.Strategy;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftKind;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.Routing;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import dev.tandem.core.store.StreamDirection;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * seed 001's advance (REST {@code POST /migrations/{id}/advance}, {@code tandem advance ID}): a running migration
 * moves to the next phase (or a named later one) only when the gate of the phase it leaves holds. Leaving the copy:
 * every chunk copied (the runner itself moves to catch_up then, so advancing by hand is refused with the progress).
 * Leaving catch_up: the stream running with lag under {@code abort_thresholds.lag_seconds} (at most 60 s, seed
 * 000's catch-up loop) and the newest finished verification — and any running continuous one — without unrepaired
 * drift. Into cutover: not by a plain advance — the cutover is a procedure the streaming process runs
 * ({@link MigrationControl#procedure}); {@link #checkCutover} holds its gates. Into cleanup: likewise, after a cutover.
 */
public final class PhaseGates {
    /** seed 000's catch-up loop waits for lag under a minute before cutover. */
    public static final double DEFAULT_LAG_GATE_SECONDS = 60;

    /** A gate that does not hold (a 409 / exit 3), with what it expects and what it found. */
    public static final class GateClosed extends TandemException {
        private final String gate;
        private final String expected;
        private final String actual;

        GateClosed(String gate, String message, String expected, String actual) {
            super(ErrorCode.BAD_STATE, message);
            this.gate = gate;
            this.expected = expected;
            this.actual = actual;
        }

        public String gate() {
            return gate;
        }

        public String expected() {
            return expected;
        }

        public String actual() {
            return actual;
        }
    }

    private final ControlStore store;

    public PhaseGates(ControlStore store) {
        this.store = store;
    }

    /**
     * Checks the gate and advances (a compare-and-set on the status read here, with an audit row).
     *
     * @param to null: the next phase
     */
    public MigrationRecord advance(MigrationRecord r, Manifest m, Phase to, String actor) {
        if (r.status().state() != MigrationState.RUNNING) {
            throw TandemException.badState("cannot advance migration " + r.id() + ": expected state running, actual "
                    + r.status().state().wire());
        }
        Phase current = r.status().phase();
        if (to == null) {
            if (current == Phase.CLEANUP) {
                throw TandemException.badState("migration " + r.id() + " is in its last phase (cleanup)");
            }
            to = next(current, m);
        }
        if (!m.phases().includes(to.wire())) {
            throw new GateClosed("phases", "cannot advance migration " + r.id() + " to " + to.wire() + ": its "
                    + "manifest's phases leave it out (" + String.join(", ", m.phases().wire()) + ")", "a phase in "
                    + "phases", to.wire());
        }
        if (!current.isBefore(to)) {
            throw TandemException.badState("cannot advance migration " + r.id() + " to " + to.wire() + ": expected a "
                    + "phase after " + current.wire() + ", actual " + to.wire());
        }
        if (current.isBefore(Phase.CATCH_UP)) {
            Optional<RunRecord> run = store.runs().list(r.id()).stream()
                    .filter(x -> x.kind() == RunRecord.Kind.BACKFILL).findFirst();
            String done = run.map(x -> {
                Map<ChunkStatus, Long> c = store.runs().chunkCounts(x.runId());
                long total = c.values().stream().mapToLong(Long::longValue).sum();
                return c.getOrDefault(ChunkStatus.PASS, 0L) + " of " + total + " chunks PASS in run " + x.runId();
            }).orElse("no backfill run yet");
            throw new GateClosed("backfill_complete", "cannot advance migration " + r.id() + " from "
                    + current.wire() + ": the backfill is not complete (" + done + "); it moves to catch_up by itself "
                    + "when every chunk is copied", "every chunk PASS", done);
        }
        if (current == Phase.CATCH_UP) {
            lag(r.id(), m);
            verification(r.id());
        }
        if (!to.isBefore(Phase.CUTOVER)) {
            throw new GateClosed("cutover", "cannot advance migration " + r.id() + " to " + to.wire() + " by a "
                    + "phase change: the cutover is a procedure (write freeze, final sync, flip); run tandem cutover "
                    + r.id(), "tandem cutover", "advance");
        }
        return store.migrations().transition(r.id(), r.status(), LifecycleEvent.ADVANCE, to, actor,
                "advance: the gates of " + current.wire() + " held");
    }

    /**
     * The phase after {@code current} that the manifest's {@code phases} run (one it leaves out is passed over);
     * cleanup stays cleanup.
     */
    public static Phase next(Phase current, Manifest m) {
        int i = Phase.ORDER.indexOf(current);
        while (i < Phase.ORDER.size() - 1) {
            Phase p = Phase.ORDER.get(++i);
            if (m.phases().includes(p.wire())) {
                return p;
            }
        }
        return Phase.ORDER.get(Phase.ORDER.size() - 1);
    }

    /** The gates before a cutover: running in catch_up or shadow, lag small, the last verification clean. */
    public void checkCutover(MigrationRecord r, Manifest m) {
        if (r.status().state() != MigrationState.RUNNING || r.status().phase() != Phase.CATCH_UP
                && r.status().phase() != Phase.SHADOW) {
            throw TandemException.badState("cannot cut migration " + r.id() + " over: expected running in catch_up "
                    + "or shadow, actual " + r.status());
        }
        if (!m.phases().includes("cutover")) {
            throw new GateClosed("phases", "cannot cut migration " + r.id() + " over: its manifest's phases leave "
                    + "out cutover (" + String.join(", ", m.phases().wire()) + "): it copies and streams only. End "
                    + "it with tandem stop or abort, and migrate with a manifest whose phases include cutover and "
                    + "cleanup", "cutover in phases", String.join(", ", m.phases().wire()));
        }
        Engine from = m.source() == null ? null : Engine.ofUrl(m.source().url()).orElse(null);
        Engine to = m.target() == null ? null : Engine.ofUrl(m.target().url()).orElse(null);
        if (from != null && from.mysqlFamily() && from != to && to != Engine.POSTGRESQL) {
            throw new GateClosed("engines", "cannot cut migration " + r.id() + " over: a cutover from " + from.wire()
                    + " into " + (to == null ? "this target" : to.wire()) + " is not built yet (the reverse stream "
                    + "into " + from.wire() + " that a rollback needs, and the sequences set past the source's); the "
                    + "target is kept in step until you end the migration. Stop the writers, wait for lag 0 (or "
                    + "continuous.stop_when: in_sync) and point the application at the target yourself",
                    "a PostgreSQL target, or one of the source's engine", from.wire() + " into "
                    + (to == null ? "?" : to.wire()));
        }
        if (m.strategy() instanceof Strategy.TimeWindow w && !w.allows(Instant.now())) {
            throw new GateClosed("time_window", "cannot cut migration " + r.id() + " over: strategy time_window "
                    + "allows the cutover only from " + w.windowStart() + " to " + w.windowEnd() + "; it is "
                    + Instant.now().truncatedTo(ChronoUnit.SECONDS), "between " + w.windowStart() + " and "
                    + w.windowEnd(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        }
        lag(r.id(), m);
        verification(r.id());
        List<String> live = store.routing().live(r.id()).stream().map(Routing.Router::routerId).toList();
        List<String> absent = m.interlays().stream().filter(e -> !live.contains(e)).toList();
        if (!absent.isEmpty()) {
            throw new GateClosed("interlays", "cannot cut migration " + r.id() + " over: the interlays "
                    + String.join(", ", absent) + " named in its manifest are not live routers of it (live: "
                    + (live.isEmpty() ? "none" : String.join(", ", live)) + "); writes through a routing layer that "
                    + "does not follow the migration cannot be frozen. Start them with those router ids, or remove "
                    + "the interlays", "every interlay a live router", live.isEmpty() ? "none" : String.join(", ", live));
        }
        if (live.isEmpty()) {
            throw new GateClosed("routers", "cannot cut migration " + r.id() + " over: no router follows it (none "
                    + "asked for its routing state in the last " + Routing.LIVE_WINDOW.toSeconds() + " s); writes "
                    + "made outside routers cannot be frozen, so the flip could lose them. Route the application "
                    + "through tandem-router first", "at least one live router", "none");
        }
    }

    private void lag(String id, Manifest m) {
        double limit = m.abortThresholds().lagSeconds() != null
                ? Math.min(m.abortThresholds().lagSeconds(), DEFAULT_LAG_GATE_SECONDS) : DEFAULT_LAG_GATE_SECONDS;
        List<LagSample> samples = store.lag().recent(id, StreamDirection.FORWARD, 120);
        if (samples.isEmpty()) {
            throw new GateClosed("lag", "cannot leave catch_up: no lag measured yet (is the stream running?)",
                    "lag_seconds <= " + limit, "not measured");
        }
        LagReport lag = LagReport.of(samples, store.now());
        if (lag.stale()) {
            throw new GateClosed("lag", "cannot leave catch_up: no process streams the migration now (last lag "
                    + "sample " + lag.sampledAt() + "); resume it first", "a running stream", "stopped");
        }
        if (lag.seconds() > limit) {
            throw new GateClosed("lag", "cannot leave catch_up: lag is " + lag.seconds() + " s, above " + limit + " s",
                    "lag_seconds <= " + limit, String.valueOf(lag.seconds()));
        }
    }

    private void verification(String id) {
        List<RunRecord> verifies = store.runs().list(id).stream().filter(x -> x.kind() == RunRecord.Kind.VERIFY)
                .toList();
        Optional<RunRecord> last = verifies.stream().filter(x -> x.status() == RunStatus.ENDED).findFirst();
        if (last.isEmpty()) {
            throw new GateClosed("verification", "cannot leave catch_up: no finished verification yet; run one "
                    + "(tandem verify -f MANIFEST, or POST /api/v1/migrations/" + id + "/verify)", "a clean verify run",
                    "none");
        }
        long columns = store.drift().list(last.get().runId()).stream().filter(d -> d.kind() == DriftKind.SCHEMA)
                .count();
        if (columns > 0) {
            throw new GateClosed("verification", "cannot leave catch_up: verify run " + last.get().runId() + " found "
                    + columns + " column difference" + (columns == 1 ? "" : "s") + " between source and target (tandem "
                    + "verify lists them); alter the target to match and verify again", "the same columns",
                    columns + " differing");
        }
        long unrepaired = unrepaired(last.get());
        if (unrepaired > 0) {
            throw new GateClosed("verification", "cannot leave catch_up: verify run " + last.get().runId() + " found "
                    + unrepaired + " differing rows not repaired; repair them (--repair) and verify again",
                    "0 differing rows", String.valueOf(unrepaired));
        }
        long continuous = verifies.stream().filter(x -> x.status() != RunStatus.ENDED).mapToLong(this::unrepaired)
                .sum();
        if (continuous > 0) {
            throw new GateClosed("verification", "cannot leave catch_up: continuous verification found " + continuous
                    + " differing rows not repaired", "0 differing rows", String.valueOf(continuous));
        }
    }

    private long unrepaired(RunRecord run) {
        return store.drift().list(run.runId()).stream().filter(d -> d.kind() != DriftKind.SCHEMA
                && d.repairedAt() == null).count();
    }
}
