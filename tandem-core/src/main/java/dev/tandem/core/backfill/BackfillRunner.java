package dev.tandem.core.backfill;

import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import io.micrometer.core.instrument.Metrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a run's chunks with {@code data.parallelism} workers (DESIGN.md correctness point 2). Each worker has one
 * source and one target connection and takes chunks from a shared queue, largest tables first. One chunk is one
 * target transaction: delete the range (for {@code replace: replace}; skipped on the first attempt at a range known
 * to be empty), stream the source's rows into it, commit.
 * Its status goes NOT_STARTED → STARTED before the source read starts, and STARTED → PASS only after the target
 * committed; a crash in between leaves STARTED, which the next run (--prev-run) copies again: harmless, since the
 * copy of a range is idempotent.
 * <p>Failures follow {@link FailurePolicy}. The run's rows/s throttle is re-read from the store every second, so an
 * operator can change it while the run goes on. {@link #stop()} (Ctrl-C) aborts the connections of chunks in flight;
 * their target transactions roll back and they are left FAIL, to be redone.
 */
public final class BackfillRunner {
    private static final Logger log = LoggerFactory.getLogger(BackfillRunner.class);

    private final ControlStore store;
    private final Tables tables;
    private final DataMovement data;
    private final FailurePolicy policy;
    private final BackfillListener listener;
    private final ChunkHooks hooks;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean interrupted = new AtomicBoolean();
    private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
    private final Set<String> failedTables = ConcurrentHashMap.newKeySet();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private final AtomicReference<Role> failedSide = new AtomicReference<>();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    /**
     * Copies what {@code tables} moves, as its manifest's {@code data} and {@code failure_handling} say.
     *
     * @param hooks where a change stream running alongside learns of chunk starts and commits
     */
    public BackfillRunner(ControlStore store, Tables tables, BackfillListener listener, ChunkHooks hooks) {
        this.store = store;
        this.tables = tables;
        this.data = tables.manifest().data();
        this.policy = new FailurePolicy(tables.manifest().failureHandling());
        this.listener = listener;
        this.hooks = hooks;
        ChunkCopier.reader(tables.source());
        ChunkCopier.writer(tables.target());
    }

    /** Copies every NOT_STARTED chunk of {@code run}; returns when all are done, the run failed, or it was stopped. */
    public BackfillResult run(RunRecord run, List<TableJob> jobs) {
        Map<String, TableJob> byName = new LinkedHashMap<>();
        jobs.forEach(j -> byName.put(j.name(), j));
        ConcurrentLinkedQueue<ChunkRecord> queue = queue(run, jobs);
        if (run.status() == RunStatus.NOT_STARTED) {
            store.runs().setStatus(run.runId(), RunStatus.NOT_STARTED, RunStatus.STARTED);
        }
        Map<String, long[]> totals = new ConcurrentHashMap<>();
        Map<String, Long> started = new ConcurrentHashMap<>();
        Throttle throttle = new Throttle(run.rowsPerSecond());
        AtomicBoolean copying = new AtomicBoolean(true);
        Thread poller = new Thread(() -> pollThrottle(run.runId(), throttle, copying),
                "tandem-throttle-" + run.runId());
        poller.setDaemon(true);
        poller.start();
        List<Thread> threads = new ArrayList<>();
        int n = Math.max(1, Math.min(data.parallelism(), Math.max(1, queue.size())));
        for (int i = 0; i < n; i++) {
            Worker w = new Worker(run.runId(), byName, queue, throttle, totals, started);
            workers.add(w);
            Thread t = new Thread(w, "tandem-copy-" + (i + 1));
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop();
            }
        }
        copying.set(false);
        poller.interrupt();
        listener.finished();
        return finish(run, jobs, totals);
    }

    /** The run's chunks still to copy, largest tables first; tells the listener what each table has to do. */
    private ConcurrentLinkedQueue<ChunkRecord> queue(RunRecord run, List<TableJob> jobs) {
        List<ChunkRecord> chunks = store.runs().chunks(run.runId(), ChunkStatus.NOT_STARTED);
        Map<String, Long> tableRows = new HashMap<>();
        Map<String, Integer> tableChunks = new HashMap<>();
        for (ChunkRecord c : chunks) {
            tableRows.merge(c.tableName(), c.rowsEstimated(), Long::sum);
            tableChunks.merge(c.tableName(), 1, Integer::sum);
        }
        for (TableJob j : jobs) {
            listener.planned(j.name(), tableRows.getOrDefault(j.name(), 0L), tableChunks.getOrDefault(j.name(), 0));
        }
        List<ChunkRecord> ordered = new ArrayList<>(chunks);
        ordered.sort(Comparator.comparing((ChunkRecord c) -> -tableRows.getOrDefault(c.tableName(), 0L))
                .thenComparing(ChunkRecord::tableName).thenComparingInt(ChunkRecord::chunkNo));
        return new ConcurrentLinkedQueue<>(ordered);
    }

    /** Ends the run when every planned chunk passed (else notes why not), and says what each table did. */
    private BackfillResult finish(RunRecord run, List<TableJob> jobs, Map<String, long[]> totals) {
        Map<ChunkStatus, Long> counts = store.runs().chunkCounts(run.runId());
        long total = counts.values().stream().mapToLong(Long::longValue).sum();
        // every chunk the run was planned with, not only every chunk the store still holds (one that lost rows
        // must not call a run whole: a missing range was never copied)
        boolean whole = run.chunksPlanned() == null || total == run.chunksPlanned();
        if (!whole && failure.get() == null) {
            failure.set("the control store holds " + total + " of the " + run.chunksPlanned() + " chunks run "
                    + run.runId() + " was planned with; run the migration again: it plans every chunk anew");
        }
        boolean complete = whole && counts.getOrDefault(ChunkStatus.PASS, 0L) == total && !interrupted.get();
        if (complete) {
            store.runs().setStatus(run.runId(), RunStatus.STARTED, RunStatus.ENDED);
        } else {
            store.runs().setInfo(run.runId(), interrupted.get() ? "interrupted by the operator"
                    : failure.get() != null ? "stopped: " + failure.get()
                    : "tables failed: " + String.join(", ", failedTables));
        }
        List<BackfillResult.TableResult> tables = new ArrayList<>();
        Map<String, Map<ChunkStatus, Long>> perTable = perTableCounts(run.runId());
        for (TableJob j : jobs) {
            long[] t = totals.getOrDefault(j.name(), new long[3]);
            tables.add(new BackfillResult.TableResult(j.name(), t[0], t[1], t[2] / 1e9,
                    perTable.getOrDefault(j.name(), Map.of())));
        }
        List<String> failed = new ArrayList<>(failedTables);
        Collections.sort(failed);
        return new BackfillResult(run.runId(), complete, interrupted.get(), tables, failed, failure.get(),
                failedSide.get());
    }

    /** Stops the run: no new chunk starts, chunks in flight are aborted and rolled back. Safe from any thread. */
    public void stop() {
        interrupted.set(true);
        stopping.set(true);
        workers.forEach(Worker::abort);
    }

    private Map<String, Map<ChunkStatus, Long>> perTableCounts(long runId) {
        Map<String, Map<ChunkStatus, Long>> out = new HashMap<>();
        for (ChunkRecord c : store.runs().chunks(runId, null)) {
            out.computeIfAbsent(c.tableName(), k -> new EnumMap<>(ChunkStatus.class)).merge(c.status(), 1L, Long::sum);
        }
        return out;
    }

    /** Re-reads the run's throttle every second while {@code copying} (a store read may swallow an interrupt). */
    private void pollThrottle(long runId, Throttle throttle, AtomicBoolean copying) {
        while (copying.get()) {
            try {
                Thread.sleep(1000);
                store.runs().find(runId).ifPresent(r -> throttle.setRate(r.rowsPerSecond()));
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("cannot read the throttle of run {}: {}", runId, e.getMessage());
            }
        }
    }

    /** One copy worker: chunks from the shared queue until it is empty or the run stops, copied with its own hands. */
    private final class Worker implements Runnable {
        private final long runId;
        private final Map<String, TableJob> jobs;
        private final ConcurrentLinkedQueue<ChunkRecord> queue;
        private final Map<String, long[]> totals;
        private final Map<String, Long> started;
        private final ChunkCopier copier;

        Worker(long runId, Map<String, TableJob> jobs, ConcurrentLinkedQueue<ChunkRecord> queue, Throttle throttle,
               Map<String, long[]> totals, Map<String, Long> started) {
            this.runId = runId;
            this.jobs = jobs;
            this.queue = queue;
            this.totals = totals;
            this.started = started;
            this.copier = new ChunkCopier(tables, hooks, listener, throttle, w -> {
                if (warned.add(w)) {
                    listener.warning(w);
                }
            });
        }

        @Override
        public void run() {
            try {
                ChunkRecord chunk;
                while (!stopping.get() && (chunk = queue.poll()) != null) {
                    if (failedTables.contains(chunk.tableName())) {
                        continue;
                    }
                    copyWithRetries(chunk);
                }
            } catch (RuntimeException e) {
                // The store itself failed (or closed while stopping): the chunk stays STARTED, which a rerun redoes.
                failure.compareAndSet(null, "control store: " + describe(e));
                stopping.set(true);
                if (!interrupted.get()) {
                    log.error("copy worker {} of run {} stopped: {}", Thread.currentThread().getName(), runId,
                            describe(e));
                }
            } finally {
                copier.close();
                workers.remove(this);
            }
        }

        private void copyWithRetries(ChunkRecord chunk) {
            TableJob job = jobs.get(chunk.tableName());
            ChunkStatus expected = ChunkStatus.NOT_STARTED;
            for (int attempt = 0; ; attempt++) {
                if (!store.runs().markChunk(chunk, expected, ChunkStatus.STARTED, 0, 0, null)) {
                    return; // another worker or process has it
                }
                started.putIfAbsent(chunk.tableName(), System.nanoTime());
                hooks.beforeSnapshot(chunk.tableName(), chunk.chunkNo());
                ChunkCopier.Attempt a = new ChunkCopier.Attempt();
                // Only a first attempt at a range known to be empty may skip the delete: a failed attempt may have
                // committed just before its connection died.
                boolean clearFirst = !(chunk.targetEmpty() && attempt == 0);
                try {
                    long rows = copier.copy(job, chunk, a, clearFirst);
                    store.runs().markChunk(chunk, ChunkStatus.STARTED, ChunkStatus.PASS, rows, a.bytes, null);
                    passed(chunk, rows, a);
                    return;
                } catch (Exception e) {
                    copier.close();
                    String message = describe(e);
                    store.runs().markChunk(chunk, ChunkStatus.STARTED, ChunkStatus.FAIL, 0, 0,
                            stopping.get() ? "interrupted: " + message : message);
                    if (stopping.get()) {
                        listener.chunkFailed(chunk.tableName(), chunk.chunkNo(), attempt, "interrupted", false,
                                a.streamedRows);
                        return;
                    }
                    boolean retry = policy.retry(e, attempt);
                    listener.chunkFailed(chunk.tableName(), chunk.chunkNo(), attempt, message, retry, a.streamedRows);
                    if (!retry) {
                        giveUp(chunk, a.side, message);
                        return;
                    }
                    log.warn("chunk {}#{} failed (attempt {}), retrying: {}", chunk.tableName(), chunk.chunkNo(),
                            attempt + 1, message);
                    expected = ChunkStatus.FAIL;
                    try {
                        Thread.sleep(policy.backoff(attempt).toMillis());
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        private void passed(ChunkRecord chunk, long rows, ChunkCopier.Attempt a) {
            long[] t = totals.computeIfAbsent(chunk.tableName(), k -> new long[3]);
            synchronized (t) {
                t[0] += rows;
                t[1] += a.bytes;
                t[2] = System.nanoTime() - started.get(chunk.tableName());
            }
            listener.chunkDone(chunk.tableName(), chunk.chunkNo(), rows, a.bytes, a.streamedRows);
            Metrics.counter("tandem.backfill.rows", "table", chunk.tableName()).increment(rows);
        }

        private void giveUp(ChunkRecord chunk, Role side, String message) {
            String what = chunk.tableName() + " chunk " + chunk.chunkNo() + ": " + message;
            if (policy.partial()) {
                failedTables.add(chunk.tableName());
                hooks.tableFailed(chunk.tableName());
            } else {
                failure.compareAndSet(null, what);
                failedSide.compareAndSet(null, side);
                stopping.set(true);
            }
        }

        void abort() {
            copier.abort();
        }
    }

    private String describe(Exception e) {
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        for (Endpoint ep : new Endpoint[] {tables.source().endpoint(), tables.target().endpoint()}) {
            msg = ep.scrub(msg);
        }
        return msg;
    }
}
