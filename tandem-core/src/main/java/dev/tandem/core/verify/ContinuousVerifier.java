package dev.tandem.core.verify;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.cdc.StreamApplier;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import dev.tandem.core.store.Runs;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous verification during catch-up (DESIGN.md correctness point 5, {@code validation.continuous}). On its own
 * thread, with its own connection to each side:
 * <ul>
 *   <li>every row the stream applies is compared again by key on both sides (batched point reads) about
 *       {@link #KEY_DELAY} after its batch was handled;</li>
 *   <li>between those, full passes over every table cycle chunk by chunk (checksums as {@code tandem verify}),
 *       limited to {@code validation.rows_per_second}, so drift written on the target by anyone else is found
 *       too;</li>
 *   <li>a difference is only suspect until {@link RowRecheck} confirms it after the stream applied past the source
 *       position of the comparison; confirmed drift is stored (a verify run of the migration, note "continuous
 *       verification"), counted for {@code abort_thresholds.drift_rows}, and repaired when {@code validation.repair}
 *       says so.</li>
 * </ul>
 * Detection latency: the time from when the drifting row (or its chunk) was last seen equal — or its change was
 * applied — to its report; an upper bound of the time from the drift's creation, since nothing tells when a row was
 * written on the target behind the stream's back. Recorded in the timer {@code tandem.drift.detection}.
 * <p>Memory: applied keys wait in {@link AppliedRows}, bounded; beyond it keys are not queued (the background passes
 * still cover their rows) and counted.
 */
public final class ContinuousVerifier implements StreamApplier.AppliedListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContinuousVerifier.class);
    static final Duration KEY_DELAY = Duration.ofMillis(300);
    static final Duration HURRIED_KEY_DELAY = Duration.ofMillis(50);
    private static final int KEYS_PER_CHECK = 2_000;
    /** The chunk number drift found by re-verifying applied rows is stored with (it belongs to no chunk). */
    public static final int APPLIED_ROWS_CHUNK = -1;

    private final ControlStore store;
    private final String migrationId;
    private final Connector source;
    private final Connector target;
    private final Map<String, TableJob> jobs = new LinkedHashMap<>();
    private final CaughtUp caughtUp;
    private final long rowsPerSecond;
    private final Consumer<String> say;
    private final Checksums sourceSums;
    private final Checksums targetSums;
    private final Optional<ChangeApplier> repairer;
    private final AppliedRows applied;
    private final FullPass pass;

    private final AtomicLong keysChecked = new AtomicLong();
    private final Timer detection;

    /** Set by {@link #checkAppliedNow}: the loop checks applied rows without waiting {@link #KEY_DELAY}. */
    private volatile boolean urgent;
    /** The loop holds applied keys it took from the queue and has not finished comparing. */
    private volatile boolean checking;
    /** Set by {@link #prepareCutover}: no full-pass chunk starts, applied rows wait {@link #HURRIED_KEY_DELAY}. */
    private volatile boolean hurried;
    /** The loop is comparing a chunk of a full pass. */
    private volatile boolean inPass;

    private long runId;
    private DriftSettlement settlement;
    private Thread thread;
    private volatile boolean running;
    private Connection s;
    private Connection t;

    /**
     * Verifies the migration of {@code sides} as its {@code validation} says (repair, rows per second) over
     * {@code jobs}, chunked as {@code data.chunk_rows}.
     *
     * @param caughtUp waits until the target applied past the source's position (the stream's fences)
     */
    public ContinuousVerifier(ControlStore store, Tables sides, List<TableJob> jobs, CaughtUp caughtUp,
                              Consumer<String> say) {
        Manifest m = sides.manifest();
        this.store = store;
        this.migrationId = m.id();
        this.source = sides.source();
        this.target = sides.target();
        jobs.forEach(j -> this.jobs.put(j.name(), j));
        this.caughtUp = caughtUp;
        this.rowsPerSecond = m.validation().rowsPerSecond();
        this.say = say;
        PairChecksums sums = PairChecksums.of(source, target, this.jobs.values());
        this.sourceSums = sums.source();
        this.targetSums = sums.target();
        this.repairer = m.validation().repair() ? target.changeApplier() : Optional.empty();
        this.applied = new AppliedRows(this.jobs.keySet());
        this.pass = new FullPass(this.jobs, new ChunkPlanner(source.keySampler().orElseThrow(), m.data().chunkRows()),
                rowsPerSecond);
        this.detection = Timer.builder("tandem.drift.detection")
                .description("time from when a drifting row was last seen equal to its report")
                .tag("migration", migrationId).publishPercentiles(0.5, 0.99).register(Metrics.globalRegistry);
    }

    /**
     * Why continuous verification cannot run between these sides ({@link PairChecksums#whyNot}); empty when it can:
     * in the databases for the same engine, else over rows read and hashed by Tandem (each difference compared again
     * by key before it counts, as always).
     */
    public static Optional<String> whyNot(Connector source, Connector target) {
        return PairChecksums.whyNot(source, target);
    }

    /** Stores the verify run this verification records its drift under and starts the thread. */
    public void start() {
        runId = store.runs().create(new Runs.NewRun(migrationId, RunRecord.Kind.VERIFY, null, null, null,
                "continuous verification during catch-up", rowsPerSecond), List.of()).runId();
        store.runs().setStatus(runId, RunStatus.NOT_STARTED, RunStatus.STARTED);
        settlement = new DriftSettlement(caughtUp, new DriftRecorder(store, runId), repairer, detection, say);
        running = true;
        thread = new Thread(this::loop, "tandem-verify-" + migrationId);
        thread.setDaemon(true);
        thread.start();
    }

    /** The verify run holding this verification's drift rows. */
    public long runId() {
        return runId;
    }

    @Override
    public void applied(List<Change> batch) {
        applied.applied(batch);
    }

    /**
     * At a cutover, with writes frozen and the stream applied up to the frozen position: compares every applied row
     * not compared yet at once (no {@link #KEY_DELAY}: nothing changes any more) and returns when none is left, or
     * false when {@code timeout} passed first. Confirmed drift is counted in {@link #driftRows} as always.
     */
    public boolean checkAppliedNow(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        urgent = true;
        try {
            while (applied.queued() > 0 || checking) {
                if (System.nanoTime() > deadline || !running) {
                    return false;
                }
                Thread.sleep(2);
            }
            return true;
        } finally {
            urgent = false;
        }
    }

    /**
     * Before a cutover freezes writes (true), and after it (false): while on, no chunk of a full pass starts (one
     * running finishes) and applied rows are compared {@link #HURRIED_KEY_DELAY} after their apply instead of
     * {@link #KEY_DELAY}, so the frozen verify step finds only the rows of the last moments to compare, not a chunk
     * of a pass and 300 ms of applied rows (measured: ~0.5-1 s of write pause at 3,000 write transactions a second).
     * A shorter delay finds more rows still changing (rechecked, lag-aware): a cost before the freeze, not in it.
     */
    public void prepareCutover(boolean on) {
        hurried = on;
    }

    /**
     * With {@link #prepareCutover}: waits until no chunk of a pass is being compared and the oldest applied row not
     * compared yet is at most 100 ms past its delay (the comparison keeps up with the stream); false when
     * {@code timeout} passed first.
     */
    public boolean awaitQuiet(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long slack = HURRIED_KEY_DELAY.toNanos() + TimeUnit.MILLISECONDS.toNanos(100);
        while (true) {
            Long oldest = applied.oldestNanos();
            if (!inPass && (oldest == null || System.nanoTime() - oldest <= slack)) {
                return true;
            }
            if (System.nanoTime() > deadline || !running) {
                return false;
            }
            Thread.sleep(5);
        }
    }

    /** Applied rows waiting to be compared. */
    public long queuedKeys() {
        return applied.queued();
    }

    /** Confirmed drift not repaired: what {@code abort_thresholds.drift_rows} is compared with. */
    public long driftRows() {
        return settlement == null ? 0 : settlement.unrepaired.get();
    }

    public long confirmed() {
        return settlement == null ? 0 : settlement.confirmed.get();
    }

    public long repaired() {
        return settlement == null ? 0 : settlement.repaired.get();
    }

    /** Rows that kept changing through every recheck (not drift). */
    public long inFlight() {
        return settlement == null ? 0 : settlement.inFlight.get();
    }

    public long keysChecked() {
        return keysChecked.get();
    }

    /** Applied rows not re-verified by key because the queue was full (the passes cover them). */
    public long keysNotQueued() {
        return applied.notQueued();
    }

    /** Full passes over every table finished. */
    public long passes() {
        return pass.passes();
    }

    @Override
    public synchronized void close() {
        running = false;
        Thread th = thread;
        thread = null;
        if (th != null) {
            th.interrupt();
            try {
                th.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                store.runs().setStatus(runId, RunStatus.STARTED, RunStatus.ENDED);
            } catch (RuntimeException e) {
                log.debug("verify run {} not ended: {}", runId, e.getMessage());
            }
        }
        closeConnections();
    }

    private void loop() {
        long lastComplaint = 0;
        while (running) {
            try {
                connect();
                boolean worked = checkApplied();
                if (!worked && !hurried && pass.due()) {
                    inPass = true;
                    try {
                        passStep();
                    } finally {
                        inPass = false;
                    }
                    worked = true;
                }
                if (!worked) {
                    Thread.sleep(urgent ? 1 : 50);
                }
            } catch (InterruptedException e) {
                break;
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                closeConnections();
                String why = target.endpoint().scrub(source.endpoint().scrub(String.valueOf(e.getMessage())));
                if (System.nanoTime() - lastComplaint > TimeUnit.MINUTES.toNanos(1)) {
                    lastComplaint = System.nanoTime();
                    say.accept("  continuous verification: " + why + "; retrying");
                }
                log.warn("continuous verification of {}: {}", migrationId, why);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    break;
                }
            }
        }
    }

    private void connect() throws SQLException {
        if (s == null || s.isClosed()) {
            s = source.connect();
            s.setAutoCommit(true);
        }
        if (t == null || t.isClosed()) {
            t = target.connect();
            t.setAutoCommit(true);
            if (repairer.isPresent()) {
                repairer.get().prepare(t);
            }
        }
    }

    private void closeConnections() {
        for (Connection c : new Connection[] {s, t}) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken already
                }
            }
        }
        s = null;
        t = null;
    }

    /** Compares the rows applied at least {@link #KEY_DELAY} ago; false when there were none. */
    private boolean checkApplied() throws SQLException, InterruptedException {
        checking = true;
        try {
            long due = urgent ? Long.MAX_VALUE
                    : System.nanoTime() - (hurried ? HURRIED_KEY_DELAY : KEY_DELAY).toNanos();
            AppliedRows.Due keys = applied.take(due, KEYS_PER_CHECK);
            if (keys.count() == 0) {
                return false;
            }
            for (Map.Entry<String, Set<List<String>>> e : keys.byTable().entrySet()) {
                TableJob job = jobs.get(e.getKey());
                RowRecheck.Side ss = sourceSide(job);
                RowRecheck.Side ts = targetSide(job);
                List<RowRecheck.Suspect> suspects = RowRecheck.compare(e.getValue(), ss, ts);
                keysChecked.addAndGet(e.getValue().size());
                if (!suspects.isEmpty()) {
                    settlement.settle(job, APPLIED_ROWS_CHUNK, suspects, ss, ts, keys.oldestNanos());
                }
            }
            return true;
        } finally {
            checking = false;
        }
    }

    /** Compares the next chunk of the current full pass (planning a new pass when the last one ended). */
    private void passStep() throws SQLException, InterruptedException {
        ChunkRecord chunk = pass.next(s);
        if (chunk == null) {
            return;
        }
        TableJob job = jobs.get(chunk.tableName());
        RowRecheck.Side ss = sourceSide(job);
        RowRecheck.Side ts = targetSide(job);
        long seenAt = System.nanoTime();
        ChunkComparison.Result c = ChunkComparison.compare(ss, ts, job.sourceRange(chunk), job.targetRange(chunk),
                null);
        if (!c.equal()) {
            settlement.settle(job, chunk.chunkNo(), c.suspects(), ss, ts, pass.lastEqual(chunk));
        }
        pass.compared(chunk, c.source().rows(), seenAt);
    }

    private RowRecheck.Side sourceSide(TableJob job) {
        return new RowRecheck.Side(s, sourceSums, job.source(), job.columns(), Role.SOURCE);
    }

    private RowRecheck.Side targetSide(TableJob job) {
        return new RowRecheck.Side(t, targetSums, job.target(), job.columns(), Role.TARGET);
    }
}
