package dev.tandem.core.verify;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.cdc.StreamApplier;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
import dev.tandem.core.store.KeyJson;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
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
 * <p>Memory: applied keys wait in a queue of at most {@link #MAX_QUEUED_KEYS}; beyond that keys are not queued (the
 * background passes still cover their rows) and counted.
 */
public final class ContinuousVerifier implements StreamApplier.AppliedListener, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContinuousVerifier.class);
    static final Duration KEY_DELAY = Duration.ofMillis(300);
    static final Duration HURRIED_KEY_DELAY = Duration.ofMillis(50);
    static final int MAX_QUEUED_KEYS = 100_000;
    private static final int KEYS_PER_CHECK = 2_000;
    private static final Duration RECHECK_TIMEOUT = Duration.ofSeconds(60);
    /** The chunk number drift found by re-verifying applied rows is stored with (it belongs to no chunk). */
    public static final int APPLIED_ROWS_CHUNK = -1;

    /** One row confirmed different. */
    public record Drift(String table, List<String> key, String kind, Duration detectedWithin, boolean repaired) {
    }

    private record Applied(long atNanos, String table, List<String> key) {
    }

    private final ControlStore store;
    private final String migrationId;
    private final Connector source;
    private final Connector target;
    private final Map<String, TableJob> jobs = new LinkedHashMap<>();
    private final CaughtUp caughtUp;
    private final boolean repair;
    private final long rowsPerSecond;
    private final int chunkRows;
    private final Consumer<String> say;
    private final Checksums sourceSums;
    private final Checksums targetSums;
    private final Optional<ChangeApplier> repairer;

    private final ConcurrentLinkedQueue<Applied> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong notQueued = new AtomicLong();
    private final AtomicLong keysChecked = new AtomicLong();
    private final AtomicLong rowsPassed = new AtomicLong();
    private final AtomicLong confirmed = new AtomicLong();
    private final AtomicLong repaired = new AtomicLong();
    /**
     * Confirmed drift while repair is off. With {@code validation.repair} a row is repaired at once, or (its source
     * row changed meanwhile) left to the stream and verified again, so it never counts.
     */
    private final AtomicLong unrepaired = new AtomicLong();
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private volatile long passes;
    private volatile Drift lastDrift;
    private final Set<String> recorded = new HashSet<>();
    private final Map<String, Long> lastEqual = new HashMap<>();
    private final Deque<ChunkRecord> pass = new ArrayDeque<>();
    private final long startNanos = System.nanoTime();
    private long nextChunkNanos;
    private boolean planned;
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
    private Thread thread;
    private volatile boolean running;
    private Connection s;
    private Connection t;

    /**
     * @param caughtUp waits until the target applied past the source's position (the stream's fences)
     */
    public ContinuousVerifier(ControlStore store, String migrationId, Connector source, Connector target,
                              List<TableJob> jobs, CaughtUp caughtUp, boolean repair, long rowsPerSecond,
                              int chunkRows, Consumer<String> say) {
        this.store = store;
        this.migrationId = migrationId;
        this.source = source;
        this.target = target;
        jobs.forEach(j -> this.jobs.put(j.name(), j));
        this.caughtUp = caughtUp;
        this.repair = repair;
        this.rowsPerSecond = rowsPerSecond;
        this.chunkRows = chunkRows;
        this.say = say;
        this.sourceSums = source.checksums().orElseThrow();
        this.targetSums = target.checksums().orElseThrow();
        this.repairer = repair ? target.changeApplier() : Optional.empty();
        this.detection = Timer.builder("tandem.drift.detection")
                .description("time from when a drifting row was last seen equal to its report")
                .tag("migration", migrationId).publishPercentiles(0.5, 0.99).register(Metrics.globalRegistry);
    }

    /**
     * Whether both sides can compute checksums the same way (same engine); when not, continuous verification is
     * off and {@code why} says so.
     */
    public static Optional<String> whyNot(Connector source, Connector target) {
        if (source.checksums().isEmpty() || target.checksums().isEmpty() || !source.name().equals(target.name())) {
            return Optional.of("continuous verification compares inside the databases, which needs the same engine "
                    + "with checksum support on both sides (" + source.name() + " to " + target.name() + " is not "
                    + "supported yet)");
        }
        return Optional.empty();
    }

    /** Stores the verify run this verification records its drift under and starts the thread. */
    public void start() {
        runId = store.runs().create(migrationId, RunRecord.Kind.VERIFY, null, null, null,
                "continuous verification during catch-up", rowsPerSecond, List.of()).runId();
        store.runs().setStatus(runId, RunStatus.NOT_STARTED, RunStatus.STARTED);
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
        long now = System.nanoTime();
        for (Change c : batch) {
            if (c.kind() != Change.Kind.UPSERT && c.kind() != Change.Kind.PARTIAL_UPDATE
                    && c.kind() != Change.Kind.DELETE) {
                continue;
            }
            if (!jobs.containsKey(c.table())) {
                continue;
            }
            if (queued.get() >= MAX_QUEUED_KEYS) {
                notQueued.incrementAndGet();
                continue;
            }
            queued.incrementAndGet();
            queue.add(new Applied(now, c.table(), c.key()));
        }
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
            while (queued.get() > 0 || checking) {
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
            Applied oldest = queue.peek();
            if (!inPass && (oldest == null || System.nanoTime() - oldest.atNanos() <= slack)) {
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
        return queued.get();
    }

    /** Confirmed drift not repaired: what {@code abort_thresholds.drift_rows} is compared with. */
    public long driftRows() {
        return unrepaired.get();
    }

    public long confirmed() {
        return confirmed.get();
    }

    public long repaired() {
        return repaired.get();
    }

    /** Rows that kept changing through every recheck (not drift). */
    public long inFlight() {
        return inFlight.get();
    }

    public long keysChecked() {
        return keysChecked.get();
    }

    /** Applied rows not re-verified by key because the queue was full (the passes cover them). */
    public long keysNotQueued() {
        return notQueued.get();
    }

    /** Full passes over every table finished. */
    public long passes() {
        return passes;
    }

    /** The newest confirmed drift, or null. */
    public Drift lastDrift() {
        return lastDrift;
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
                if (!worked && !hurried && System.nanoTime() >= nextChunkNanos) {
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
                errors.incrementAndGet();
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
            return checkAppliedDue();
        } finally {
            checking = false;
        }
    }

    private boolean checkAppliedDue() throws SQLException, InterruptedException {
        long due = urgent ? Long.MAX_VALUE
                : System.nanoTime() - (hurried ? HURRIED_KEY_DELAY : KEY_DELAY).toNanos();
        Map<String, Set<List<String>>> byTable = new LinkedHashMap<>();
        long oldest = Long.MAX_VALUE;
        int n = 0;
        while (n < KEYS_PER_CHECK) {
            Applied a = queue.peek();
            if (a == null || a.atNanos() > due) {
                break;
            }
            queue.poll();
            queued.decrementAndGet();
            byTable.computeIfAbsent(a.table(), k -> new LinkedHashSet<>()).add(a.key());
            oldest = Math.min(oldest, a.atNanos());
            n++;
        }
        if (n == 0) {
            return false;
        }
        for (Map.Entry<String, Set<List<String>>> e : byTable.entrySet()) {
            TableJob job = jobs.get(e.getKey());
            RowRecheck.Side ss = sourceSide(job);
            RowRecheck.Side ts = targetSide(job);
            List<RowRecheck.Suspect> suspects = RowRecheck.compare(e.getValue(), ss, ts);
            keysChecked.addAndGet(e.getValue().size());
            if (!suspects.isEmpty()) {
                settle(job, APPLIED_ROWS_CHUNK, suspects, ss, ts, oldest);
            }
        }
        return true;
    }

    /** Compares the next chunk of the current full pass (planning a new pass when the last one ended). */
    private void passStep() throws SQLException, InterruptedException {
        if (pass.isEmpty()) {
            if (planned) {
                passes++;
            }
            KeySampler sampler = source.keySampler().orElseThrow();
            ChunkPlanner planner = new ChunkPlanner(sampler, chunkRows);
            for (TableJob job : jobs.values()) {
                pass.addAll(VerifyRunner.chunks(planner, s, job));
            }
            planned = true;
            if (pass.isEmpty()) {
                nextChunkNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                return;
            }
        }
        ChunkRecord chunk = pass.poll();
        TableJob job = jobs.get(chunk.tableName());
        RowRecheck.Side ss = sourceSide(job);
        RowRecheck.Side ts = targetSide(job);
        String where = chunk.tableName() + "#" + chunk.chunkNo();
        long seenAt = System.nanoTime();
        Checksums.RangeChecksum tc = targetSums.checksum(t, job.target(), job.columns(), job.targetRange(chunk));
        Checksums.RangeChecksum sc = sourceSums.checksum(s, job.source(), job.columns(), job.sourceRange(chunk));
        rowsPassed.addAndGet(sc.rows());
        // the rate limit: this chunk's rows at rows_per_second before the next chunk
        nextChunkNanos = System.nanoTime() + (long) (Math.max(1, sc.rows()) * 1e9 / rowsPerSecond);
        if (sc.equals(tc)) {
            lastEqual.put(where, seenAt);
            return;
        }
        Map<List<String>, Long> sourceRows = new HashMap<>();
        sourceSums.rowHashes(s, job.source(), job.columns(), job.sourceRange(chunk), sourceRows::put);
        List<RowRecheck.Suspect> suspects = new ArrayList<>();
        targetSums.rowHashes(t, job.target(), job.columns(), job.targetRange(chunk), (key, hash) -> {
            Long sh = sourceRows.remove(key);
            if (sh == null || sh != hash) {
                suspects.add(new RowRecheck.Suspect(key, sh, hash));
            }
        });
        sourceRows.forEach((key, hash) -> suspects.add(new RowRecheck.Suspect(key, hash, null)));
        if (!suspects.isEmpty()) {
            settle(job, chunk.chunkNo(), suspects, ss, ts, lastEqual.getOrDefault(where, startNanos));
        }
        lastEqual.put(where, seenAt);
    }

    /** Rechecks suspects; stores, reports and (when configured) repairs the confirmed ones. */
    private void settle(TableJob job, int chunkNo, List<RowRecheck.Suspect> suspects, RowRecheck.Side ss,
                        RowRecheck.Side ts, long sinceNanos) throws SQLException, InterruptedException {
        RowRecheck.Outcome o = RowRecheck.recheck(suspects, ss, ts, caughtUp, RECHECK_TIMEOUT);
        inFlight.addAndGet(o.inFlight());
        for (RowRecheck.Suspect d : o.confirmed()) {
            String keyJson = KeyJson.write(d.key());
            if (!recorded.add(job.name() + "\u0000" + keyJson)) {
                continue; // reported before and not repaired
            }
            Duration within = Duration.ofNanos(System.nanoTime() - sinceNanos);
            detection.record(within);
            Map<String, List<String>> differing = d.kind().equals("mismatch")
                    ? DriftRows.differingColumns(ss, ts, d.key()) : Map.of();
            store.drift().record(new DriftLog.DriftRow(runId, job.name(), chunkNo, keyJson, d.kind(),
                    d.kind().equals("mismatch") ? KeyJson.write(new ArrayList<>(differing.keySet())) : null, null,
                    null));
            confirmed.incrementAndGet();
            boolean fixed = false;
            if (repairer.isPresent()) {
                t.setAutoCommit(false);
                try {
                    fixed = DriftRows.repair(ss, ts, repairer.get(), job.name(), d);
                } finally {
                    t.setAutoCommit(true);
                }
                if (fixed) {
                    store.drift().repaired(runId, job.name(), keyJson);
                    repaired.incrementAndGet();
                }
                // Not fixed: the source row changed since it was compared; the stream brings that change, and if
                // the row still differs afterwards it is found, reported and repaired again.
                recorded.remove(job.name() + "\u0000" + keyJson);
            } else {
                unrepaired.incrementAndGet();
            }
            Drift drift = new Drift(job.name(), d.key(), d.kind(), within, fixed);
            lastDrift = drift;
            StringBuilder cols = new StringBuilder();
            differing.forEach((c, v) -> cols.append(' ').append(c).append(" source=").append(v.get(0))
                    .append(" target=").append(v.get(1)));
            say.accept(String.format(Locale.ROOT, "  DRIFT %s key %s: %s%s; detected within %.1f s%s", job.name(),
                    d.key(), d.kind(), cols, within.toMillis() / 1000.0, fixed ? "; repaired from the source" : ""));
        }
    }

    private RowRecheck.Side sourceSide(TableJob job) {
        return new RowRecheck.Side(s, sourceSums, job.source(), job.columns(), Role.SOURCE);
    }

    private RowRecheck.Side targetSide(TableJob job) {
        return new RowRecheck.Side(t, targetSums, job.target(), job.columns(), Role.TARGET);
    }
}
