package dev.tandem.core.cdc;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.FailureHandling;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.KeyRange;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.ToLongBiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream's sink: routes each change through the chunk gates (while a backfill copies), folds what is to be
 * applied with {@link ChangeReducer} and applies a whole batch of source transactions in one target transaction
 * (group commit). Returns from {@link #accept} only after that commit, so the stream confirms positions only past
 * changes the target holds (correctness point 4). Retryable target errors (connection lost, serialization) are
 * retried with backoff on a new connection; the apply is idempotent, so a batch applied twice is harmless.
 * <p>Keeping source transactions ({@code cdc.apply: source_transactions}) is {@link SourceTransactions}' job: one
 * target transaction per source transaction. While chunks are still copying the target is not a consistent state of
 * the source anyway; the boundaries matter from the end of the backfill on. How changes are written, and which
 * write commits, is {@link TargetWrites}'.
 * <p>Replays of held-back changes ({@link #drain}) run on the copy worker's connection, in the same way.
 */
public final class StreamApplier implements ChangeCapture.ChangeSink {
    private static final Logger log = LoggerFactory.getLogger(StreamApplier.class);
    private static final int RETRIES = 5;

    private final TargetWrites writes;
    /** seed 002's failure_handling for apply errors (chunk errors follow it in the backfill). */
    private volatile FailureHandling failureHandling = FailureHandling.DEFAULT;
    /** allow_partial: tables whose changes failed for good; their changes are skipped from then on. */
    private final Set<String> failedTables = ConcurrentHashMap.newKeySet();
    private volatile BiConsumer<String, String> tableFailedListener = (t, why) -> { };
    /** Source-transaction mode; null for group commit. */
    private final SourceTransactions transactions;
    private volatile ChunkGates gates;

    private final Object applying = new Object();
    private volatile boolean closing;

    private final AtomicLong received = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private volatile long pending;
    private volatile String appliedPosition;
    private volatile Instant appliedCommitAt;
    private volatile long lastApplyNanos = System.nanoTime();
    private final Map<String, CountDownLatch> fences = new ConcurrentHashMap<>();
    /** Holds each schema change announced by the stream against the target; null: nobody looks. */
    private volatile SchemaWatch schemaWatch;
    /** Why the stream stopped for a schema change found outside it (the catalogs): no batch is taken from then on. */
    private volatile SchemaStop halted;
    private volatile AppliedListener appliedListener;
    private volatile Consumer<String> fenceListener;

    /** Told of each batch once it is handled (continuous verification re-checks the rows it touched). */
    public interface AppliedListener {
        /** Called on the stream's thread: must only take note, never block. */
        void applied(List<Change> batch);
    }

    public StreamApplier(Connector target, ChangeApplier applier, Map<String, ChangeApplier.ApplyTable> tables,
                         Consumer<String> warn) {
        this(target, applier, tables, null, null, warn);
    }

    /**
     * @param transactionsOf keep source transactions: the stream's name, under which the target records the
     *                       position of the last transaction it committed ({@link ChangeApplier.AppliedPositions});
     *                       null for group commit
     * @param distance       the capture's {@link ChangeCapture#distance}, to skip transactions the target has
     */
    public StreamApplier(Connector target, ChangeApplier applier, Map<String, ChangeApplier.ApplyTable> tables,
                         String transactionsOf, ToLongBiFunction<String, String> distance, Consumer<String> warn) {
        this.writes = new TargetWrites(target, applier, tables, failedTables, warn);
        if (transactionsOf == null) {
            this.transactions = null;
        } else {
            ChangeApplier.AppliedPositions positions = applier.appliedPositions().orElseThrow(() ->
                    TandemException.badInput("cdc.apply: source_transactions needs a target that records how far "
                            + "the stream applied; " + target.name() + " cannot; use cdc.apply: group_commit"));
            Routed.Router router = new Routed.Router() {
                @Override
                public void route(Change c, Routed into) {
                    StreamApplier.this.route(c, into);
                }

                @Override
                public void handled(int last, List<Change> batch) {
                    StreamApplier.this.handled(last, batch);
                }
            };
            this.transactions = new SourceTransactions(writes, positions, transactionsOf, distance, router,
                    (e, attempt) -> !closing && retryAgain(e, attempt));
        }
    }

    /** Tells {@code listener} of every batch handled from now on (null: nobody). */
    public void onApplied(AppliedListener listener) {
        this.appliedListener = listener;
    }

    /** Tells {@code listener} each fence marker once everything before it is committed on the target. */
    public void onFence(Consumer<String> listener) {
        this.fenceListener = listener;
    }

    /** Target transactions attempted by the stream (each retry counts), for the error rate. */
    public long attempts() {
        return writes.attempts();
    }

    /** Target transactions of the stream that failed (retried or not). */
    public long failedAttempts() {
        return writes.failedAttempts();
    }

    /**
     * How apply errors are handled (seed 002): a transient error is retried up to 5 times (or {@code retry_count})
     * under every policy; {@code retry_then_all} retries any other error {@code retry_count} times too before the
     * stream fails; {@code allow_partial} (group commit only) then applies the batch table by table and gives up the
     * tables that still fail — their changes are skipped from then on and {@code onTableFailed} is told — while the
     * others go on. {@code rollback_all} fails the stream at once.
     *
     * @param alreadyFailed tables an earlier run gave up (they stay given up)
     */
    public void failureHandling(FailureHandling handling, Set<String> alreadyFailed,
                                BiConsumer<String, String> onTableFailed) {
        this.failureHandling = handling;
        this.failedTables.addAll(alreadyFailed);
        this.tableFailedListener = onTableFailed;
    }

    /** Tables given up under allow_partial. */
    public Set<String> failedTables() {
        return Set.copyOf(failedTables);
    }

    /**
     * Holds each {@link Change.Kind#SCHEMA} change of the stream against the target from now on ({@code null}:
     * nobody does): everything before it is committed first, and a {@link SchemaStop} it throws stops the stream
     * there.
     */
    public void schemaWatch(SchemaWatch watch) {
        this.schemaWatch = watch;
    }

    /**
     * A schema change found outside the stream (the catalog comparison) stops it: the batch in flight, if any,
     * finishes; none is taken after. Any thread.
     */
    public void halt(SchemaStop why) {
        synchronized (applying) {
            halted = why;
        }
    }

    /**
     * Runs {@code work} while no batch is being applied (the catalog comparison alters the target or swaps a
     * table's apply view this way). Any thread.
     */
    public <T> T exclusive(java.util.concurrent.Callable<T> work) throws Exception {
        synchronized (applying) {
            return work.call();
        }
    }

    /**
     * {@code table}'s columns changed on both sides (altered by Tandem, or by the operator before the rows of the new
     * shape came): its changes are applied with the columns both sides have now. Call with the apply held (the
     * stream's thread, or {@link #exclusive}).
     */
    public void refresh(String table, SchemaWatch.Sides sides) {
        ChangeApplier.ApplyTable at = writes.table(table);
        if (at == null || sides == null) {
            return;
        }
        List<String> columns = sides.source().copiedColumns().stream()
                .filter(c -> sides.target().column(c).isPresent()).toList();
        if (!columns.equals(at.columns()) || !sides.target().columns().equals(at.target().columns())) {
            writes.replace(table, new ChangeApplier.ApplyTable(sides.target(), columns, at.strategy(),
                    at.timestampColumn()));
            shapeChanges.incrementAndGet();
            log.info("{} is applied with columns {} from now on", table, columns);
        }
    }

    /**
     * How many times a table's shape changed under this applier ({@code on_schema_change: apply}): what compares the
     * tables (continuous verification, the cutover's) reads them again when it moves.
     */
    public long shapeChanges() {
        return shapeChanges.get();
    }

    private final java.util.concurrent.atomic.AtomicLong shapeChanges = new java.util.concurrent.atomic.AtomicLong();

    /** Routes changes through {@code gates} from now on (null: apply every change). */
    public void gates(ChunkGates gates) {
        this.gates = gates;
    }

    @Override
    public boolean accept(List<Change> batch) throws Exception {
        synchronized (applying) {
            if (closing) {
                return false;
            }
            if (halted != null) {
                throw halted;
            }
            pending = batch.size();
            received.addAndGet(batch.size());
            Routed routed = new Routed(batch.size());
            if (transactions != null) {
                transactions.accept(batch, routed);
            } else {
                for (int i = 0; i < batch.size(); i++) {
                    Change c = batch.get(i);
                    if (c.kind() == Change.Kind.SCHEMA) {
                        schemaChange(c, routed, i, batch);
                    } else {
                        route(c, routed);
                    }
                }
                if (!routed.apply.isEmpty()) {
                    commitWithRetries(routed.apply, routed.keep);
                    applied.addAndGet(routed.apply.size());
                }
                handled(batch.size() - 1, batch);
            }
            List<String> markers = routed.markers;
            pending = 0;
            batches.incrementAndGet();
            lastApplyNanos = System.nanoTime();
            for (String m : markers) {
                fences.computeIfAbsent(m, k -> new CountDownLatch(1)).countDown();
            }
            Consumer<String> fenceListener = this.fenceListener;
            if (fenceListener != null) {
                markers.forEach(fenceListener);
            }
            if (fences.size() > 1000) {
                // markers nobody here waits for (fences of another process, e.g. a verify): forget them
                fences.values().removeIf(l -> l.getCount() == 0);
            }
            AppliedListener l = appliedListener;
            if (l != null) {
                l.applied(batch);
            }
            return true;
        }
    }

    /**
     * Group commit: a table's shape announced at index {@code at} of the batch. What was routed before it is
     * committed first, so a stop leaves the target holding everything before the change and nothing after it (the
     * batch is not confirmed: after the resume the part before comes again, applied idempotently).
     */
    private void schemaChange(Change c, Routed routed, int at, List<Change> batch) throws Exception {
        SchemaWatch w = schemaWatch;
        if (w == null) {
            return;
        }
        if (!routed.apply.isEmpty()) {
            commitWithRetries(routed.apply, routed.keep);
            applied.addAndGet(routed.apply.size());
            routed.clear();
        }
        if (at > 0) {
            handled(at - 1, batch);
        }
        refresh(c.table(), w.streamed(c));
    }

    /** Sorts one change: a marker noted, a change the gates let through to be applied, others held or dropped. */
    private void route(Change c, Routed into) {
        List<Change> apply = into.apply;
        ChunkGates g = gates;
        switch (c.kind()) {
            case MARKER -> {
                if (c.marker() != null) {
                    into.markers.add(c.marker());
                }
            }
            case COMMIT -> {
            }
            case SCHEMA -> {
                // source transactions: a stop throws out of the open transaction, which is then rolled back; the
                // transactions before it are committed and recorded on the target (apply is refused in this mode)
                SchemaWatch w = schemaWatch;
                if (w != null) {
                    try {
                        refresh(c.table(), w.streamed(c));
                    } catch (SQLException e) {
                        throw new IllegalStateException("cannot compare the schema of " + c.table() + ": "
                                + writes.scrub(e), e);
                    }
                }
            }
            case TRUNCATE -> {
                List<KeyRange> except = g == null ? List.of() : g.truncate(c);
                if (except != null) {
                    apply.add(c);
                    into.keep.put(c.table(), except);
                }
            }
            default -> {
                if (g == null || g.route(c) == ChunkGates.Route.APPLY) {
                    apply.add(c);
                }
            }
        }
    }

    /** Everything of {@code changes} up to index {@code last} (inclusive) is handled: for lag. */
    private void handled(int last, List<Change> changes) {
        appliedPosition = changes.get(last).position();
        for (int i = last; i >= 0; i--) {
            if (changes.get(i).committedAt() != null) {
                appliedCommitAt = changes.get(i).committedAt();
                break;
            }
        }
    }

    /** Replays a gate's held-back changes on a copy worker's connection; commits. */
    public void drain(Connection worker, List<Change> changes, KeyRange scope) throws SQLException {
        Map<String, List<KeyRange>> keep = new HashMap<>();
        for (Change c : changes) {
            if (c.kind() == Change.Kind.TRUNCATE) {
                keep.put(c.table(), List.of());
            }
        }
        writes.commit(worker, changes, keep, scope);
        applied.addAndGet(changes.size());
    }

    /**
     * Group commit: commits the batch's changes in one target transaction, retrying on a new connection as
     * {@link #retryAgain} allows; under allow_partial a batch that failed for good is committed table by table.
     */
    private void commitWithRetries(List<Change> changes, Map<String, List<KeyRange>> keep) throws Exception {
        for (int attempt = 0; ; attempt++) {
            writes.attempted();
            try {
                writes.commit(writes.connection(), changes, keep, null);
                return;
            } catch (SQLException e) {
                writes.failed();
                writes.closeConnection();
                if (closing) {
                    throw e;
                }
                if (!retryAgain(e, attempt)) {
                    if (failureHandling.type() == FailureHandling.Type.ALLOW_PARTIAL) {
                        commitTableByTable(changes, keep, e);
                        return;
                    }
                    throw e;
                }
                log.warn("applying {} changes failed (attempt {}), retrying: {}", changes.size(), attempt + 1,
                        writes.scrub(e));
                Thread.sleep(Math.min(10_000, 200L << Math.min(attempt, 10)));
            }
        }
    }

    /** Whether a failed attempt is tried again: transient errors always (a few times), others by the policy. */
    private boolean retryAgain(SQLException e, int attempt) {
        FailureHandling fh = failureHandling;
        if (SqlErrors.isRetryable(e)) {
            return attempt < Math.max(RETRIES, fh.retryCount());
        }
        return fh.type() == FailureHandling.Type.RETRY_THEN_ALL && attempt < fh.retryCount();
    }

    /**
     * allow_partial: the batch that failed for good is applied once more, one table per target transaction (giving
     * up the atomicity of the batch across tables, which group commit never promised the source's transactions); a
     * table that still fails is given up.
     */
    private void commitTableByTable(List<Change> changes, Map<String, List<KeyRange>> keep, SQLException why)
            throws SQLException {
        Map<String, List<Change>> byTable = new java.util.LinkedHashMap<>();
        for (Change c : changes) {
            byTable.computeIfAbsent(c.table(), k -> new ArrayList<>()).add(c);
        }
        log.warn("applying {} changes failed for good ({}); allow_partial: applying them table by table",
                changes.size(), writes.scrub(why));
        for (Map.Entry<String, List<Change>> e : byTable.entrySet()) {
            if (failedTables.contains(e.getKey())) {
                continue;
            }
            writes.attempted();
            try {
                writes.commit(writes.connection(), e.getValue(), keep, null);
            } catch (SQLException failed) {
                writes.failed();
                writes.closeConnection();
                if (SqlErrors.isRetryable(failed)) {
                    throw failed; // the target itself is failing, not this table
                }
                failedTables.add(e.getKey());
                tableFailedListener.accept(e.getKey(), writes.scrub(failed));
            }
        }
    }

    /**
     * Waits until the stream delivered and applied the marker {@code fence} (see {@link ChangeCapture#fence}).
     *
     * @return false on timeout
     */
    public boolean awaitFence(String fence, long timeout, TimeUnit unit) throws InterruptedException {
        boolean arrived = fences.computeIfAbsent(fence, k -> new CountDownLatch(1)).await(timeout, unit);
        fences.remove(fence);
        return arrived;
    }

    /**
     * Stops taking batches. Graceful: waits for the batch being applied to commit. Immediate: aborts its target
     * connection, so it rolls back (its changes are not confirmed and come again on restart).
     */
    public void close(boolean immediate) {
        closing = true;
        if (immediate) {
            writes.abortInFlight();
        }
        synchronized (applying) {
            writes.closeConnection();
        }
    }

    /** Changes received and not applied yet: the batch being applied and those held back for chunks copying. */
    public long unapplied() {
        ChunkGates g = gates;
        return pending + (transactions == null ? 0 : transactions.carried()) + (g == null ? 0 : g.held());
    }

    public long received() {
        return received.get();
    }

    public long applied() {
        return applied.get() + (transactions == null ? 0 : transactions.committed());
    }

    /** The position of the last change handled (applied, dropped or held back), or null before the first batch. */
    public String appliedPosition() {
        return appliedPosition;
    }

    /** The source commit time of the last change handled, or null. */
    public Instant appliedCommitAt() {
        return appliedCommitAt;
    }

    /** Source transactions skipped because the target held them already (after a restart). */
    public long skipped() {
        return transactions == null ? 0 : transactions.skipped();
    }

    public long batches() {
        return batches.get();
    }

    /** Nanos (System.nanoTime) of the last batch handled. */
    public long lastApplyNanos() {
        return lastApplyNanos;
    }
}
