package dev.tandem.core.cdc;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.manifest.FailureHandling;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.KeyRange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
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

/**
 * The stream's sink: routes each change through the chunk gates (while a backfill copies), folds what is to be
 * applied with {@link ChangeReducer} and applies a whole batch of source transactions in one target transaction
 * (group commit). Returns from {@link #accept} only after that commit, so the stream confirms positions only past
 * changes the target holds (correctness point 4). Retryable target errors (connection lost, serialization) are
 * retried with backoff on a new connection; the apply is idempotent, so a batch applied twice is harmless.
 * <p>Keeping source transactions ({@code cdc.apply: source_transactions}): each source transaction becomes one
 * target transaction, committed at its {@link Change.Kind#COMMIT}, so a reader of the target only ever sees states
 * the source had. A batch that ends inside a transaction leaves that part applied and uncommitted on the target
 * connection; the next batch continues it (the stream confirms nothing past the last COMMIT meanwhile). A retryable
 * error while such a part is open cannot be retried here (its changes are gone from memory): the stream fails and
 * a restart delivers the transaction again from its start. While chunks are still copying the target is not a
 * consistent state of the source anyway; the boundaries matter from the end of the backfill on.
 * <p>Replays of held-back changes ({@link #drain}) run on the copy worker's connection, in the same way.
 */
public final class StreamApplier implements ChangeCapture.ChangeSink {
    private static final Logger log = LoggerFactory.getLogger(StreamApplier.class);
    private static final int RETRIES = 5;

    private final Connector target;
    private final ChangeApplier applier;
    private final Map<String, ChangeApplier.ApplyTable> tables;
    /** seed 002's failure_handling for apply errors (chunk errors follow it in the backfill). */
    private volatile FailureHandling failureHandling = FailureHandling.DEFAULT;
    /** allow_partial: tables whose changes failed for good; their changes are skipped from then on. */
    private final Set<String> failedTables = ConcurrentHashMap.newKeySet();
    private volatile BiConsumer<String, String> tableFailedListener = (t, why) -> { };
    private final Consumer<String> warn;
    private final boolean keepTransactions;
    private final String streamName;
    private final ToLongBiFunction<String, String> distance;
    /** Source-transaction mode: transactions ending at or before this position are on the target already. */
    private String skipThrough;
    private boolean skipRead;
    private final AtomicLong skipped = new AtomicLong();
    private volatile ChunkGates gates;
    private Connection connection;

    private final Object applying = new Object();
    private volatile boolean closing;
    private volatile Connection inFlight;

    private final AtomicLong received = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private volatile long pending;
    /** Source-transaction mode: changes of an unfinished source transaction applied, not committed, on the target. */
    private volatile long carried;
    private volatile String appliedPosition;
    private volatile Instant appliedCommitAt;
    private volatile long lastApplyNanos = System.nanoTime();
    private final Map<String, CountDownLatch> fences = new ConcurrentHashMap<>();
    private volatile AppliedListener appliedListener;
    private volatile Consumer<String> fenceListener;
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();

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
     *                       position of the last transaction it committed ({@link ChangeApplier#recordPosition});
     *                       null for group commit
     * @param distance       the capture's {@link ChangeCapture#distance}, to skip transactions the target has
     */
    public StreamApplier(Connector target, ChangeApplier applier, Map<String, ChangeApplier.ApplyTable> tables,
                         String transactionsOf, ToLongBiFunction<String, String> distance, Consumer<String> warn) {
        this.target = target;
        this.applier = applier;
        this.tables = Map.copyOf(tables);
        this.keepTransactions = transactionsOf != null;
        this.streamName = transactionsOf;
        this.distance = distance;
        this.warn = warn;
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
        return attempts.get();
    }

    /** Target transactions of the stream that failed (retried or not). */
    public long failedAttempts() {
        return failedAttempts.get();
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
            pending = batch.size();
            received.addAndGet(batch.size());
            List<Change> apply = new ArrayList<>(batch.size());
            Map<String, List<KeyRange>> keep = new HashMap<>();
            List<String> markers = new ArrayList<>();
            if (keepTransactions) {
                acceptTransactions(batch, apply, keep, markers);
            } else {
                for (Change c : batch) {
                    route(c, apply, keep, markers);
                }
                if (!apply.isEmpty()) {
                    applyWithRetries(apply, keep, null);
                    applied.addAndGet(apply.size());
                }
                handled(batch.size() - 1, batch);
            }
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

    /** Sorts one change: a marker noted, a change the gates let through added to {@code apply}, others held/dropped. */
    private void route(Change c, List<Change> apply, Map<String, List<KeyRange>> keep, List<String> markers) {
        ChunkGates g = gates;
        switch (c.kind()) {
            case MARKER -> {
                if (c.marker() != null) {
                    markers.add(c.marker());
                }
            }
            case COMMIT -> {
            }
            case TRUNCATE -> {
                List<KeyRange> except = g == null ? List.of() : g.truncate(c);
                if (except != null) {
                    apply.add(c);
                    keep.put(c.table(), except);
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

    /**
     * Source-transaction mode: one target commit per source COMMIT; the changes after the batch's last COMMIT are
     * applied into the open target transaction, which the next batch continues.
     */
    private void acceptTransactions(List<Change> batch, List<Change> apply, Map<String, List<KeyRange>> keep,
                                    List<String> markers) throws Exception {
        if (!skipRead) {
            skipThrough = applier.appliedPosition(connection(), streamName);
            skipRead = true;
            if (skipThrough != null) {
                log.info("the target holds the source transactions up to {}; the stream skips them", skipThrough);
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            Change c = batch.get(i);
            route(c, apply, keep, markers);
            if (c.kind() == Change.Kind.COMMIT) {
                if (skipThrough != null && c.position() != null
                        && distance.applyAsLong(skipThrough, c.position()) == 0) {
                    discard(apply, keep); // delivered again after a restart; committed here before
                } else {
                    applyPart(apply, keep, c.position());
                }
                handled(i, batch);
            } else if (c.kind() == Change.Kind.MARKER && apply.isEmpty() && carried == 0) {
                handled(i, batch); // between transactions: a heartbeat or fence moves the position
            }
        }
        if (!apply.isEmpty()) {
            applyPart(apply, keep, null);
        }
    }

    /** A source transaction the target already holds: its part applied in the open transaction is rolled back. */
    private void discard(List<Change> apply, Map<String, List<KeyRange>> keep) {
        if (carried > 0 && connection != null) {
            rollback(connection);
        }
        carried = 0;
        skipped.incrementAndGet();
        apply.clear();
        keep.clear();
    }

    /**
     * Applies the changes of one source transaction seen so far on the stream's connection, after the part an
     * earlier batch left open there; when the transaction ended ({@code commitAt} its position), records that
     * position on the target and commits. Empties {@code apply} and {@code keep}.
     */
    private void applyPart(List<Change> apply, Map<String, List<KeyRange>> keep, String commitAt) throws Exception {
        boolean commit = commitAt != null;
        for (int attempt = 0; ; attempt++) {
            attempts.incrementAndGet();
            Connection c = connection();
            inFlight = c;
            try {
                if (carried > 0) {
                    if (!apply.isEmpty()) {
                        applyAfterSavepoint(c, apply, keep);
                    }
                    if (commit) {
                        applier.recordPosition(c, streamName, commitAt);
                        applier.flush(c);
                    }
                } else {
                    // the changes and the position go in one round trip where the applier can
                    try {
                        applyReduced(c, apply, keep, null, false);
                        if (commit) {
                            applier.recordPosition(c, streamName, commitAt);
                        }
                        applier.flush(c);
                    } catch (SQLException e) {
                        if (!isConstraint(e)) {
                            throw e;
                        }
                        rollback(c);
                        applyOneByOne(c, apply, keep, null, e);
                        if (commit) {
                            applier.recordPosition(c, streamName, commitAt);
                        }
                        applier.flush(c);
                    }
                }
                if (commit) {
                    c.commit();
                    applied.addAndGet(carried + apply.size());
                    carried = 0;
                } else {
                    carried += apply.size();
                }
                apply.clear();
                keep.clear();
                return;
            } catch (SQLException | RuntimeException e) {
                failedAttempts.incrementAndGet();
                boolean open = carried > 0;
                rollback(c);
                closeConnection();
                carried = 0;
                if (open || closing || !(e instanceof SQLException se) || !retryAgain(se, attempt)) {
                    throw e;
                }
                log.warn("applying a source transaction failed (attempt {}), retrying: {}", attempt + 1,
                        target.endpoint().scrub(String.valueOf(e.getMessage())));
                Thread.sleep(Math.min(10_000, 200L << attempt));
            } finally {
                inFlight = null;
            }
        }
    }

    /** A further part of an open transaction; a constraint error undoes only this part, applied again in order. */
    private void applyAfterSavepoint(Connection c, List<Change> apply, Map<String, List<KeyRange>> keep)
            throws SQLException {
        Savepoint sp = c.setSavepoint();
        try {
            applyReduced(c, apply, keep, null, false);
            applier.flush(c);
        } catch (SQLException e) {
            if (!isConstraint(e)) {
                throw e;
            }
            c.rollback(sp);
            applier.rolledBack(c);
            applyOneByOne(c, apply, keep, null, e);
            applier.flush(c);
        }
        c.releaseSavepoint(sp);
    }

    private void applyOneByOne(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope,
                               SQLException why) throws SQLException {
        log.info("a folded batch hit a constraint ({}); applying its {} changes one by one", why.getSQLState(),
                changes.size());
        for (Change ch : changes) {
            applyReduced(c, List.of(ch), keep, scope, false);
        }
    }

    private static boolean isConstraint(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("23");
    }

    /** Replays a gate's held-back changes on a copy worker's connection; commits. */
    public void drain(Connection worker, List<Change> changes, KeyRange scope) throws SQLException {
        Map<String, List<KeyRange>> keep = new HashMap<>();
        for (Change c : changes) {
            if (c.kind() == Change.Kind.TRUNCATE) {
                keep.put(c.table(), List.of());
            }
        }
        applyOn(worker, changes, keep, scope);
        applied.addAndGet(changes.size());
    }

    private void applyWithRetries(List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws Exception {
        for (int attempt = 0; ; attempt++) {
            attempts.incrementAndGet();
            try {
                applyOn(connection(), changes, keep, scope);
                return;
            } catch (SQLException e) {
                failedAttempts.incrementAndGet();
                closeConnection();
                if (closing) {
                    throw e;
                }
                if (!retryAgain(e, attempt)) {
                    if (failureHandling.type() == FailureHandling.Type.ALLOW_PARTIAL) {
                        applyTableByTable(changes, keep, e);
                        return;
                    }
                    throw e;
                }
                log.warn("applying {} changes failed (attempt {}), retrying: {}", changes.size(), attempt + 1,
                        target.endpoint().scrub(String.valueOf(e.getMessage())));
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
    private void applyTableByTable(List<Change> changes, Map<String, List<KeyRange>> keep, SQLException why)
            throws SQLException {
        Map<String, List<Change>> byTable = new java.util.LinkedHashMap<>();
        for (Change c : changes) {
            byTable.computeIfAbsent(c.table(), k -> new ArrayList<>()).add(c);
        }
        log.warn("applying {} changes failed for good ({}); allow_partial: applying them table by table",
                changes.size(), target.endpoint().scrub(String.valueOf(why.getMessage())));
        for (Map.Entry<String, List<Change>> e : byTable.entrySet()) {
            if (failedTables.contains(e.getKey())) {
                continue;
            }
            attempts.incrementAndGet();
            try {
                applyOn(connection(), e.getValue(), keep, null);
            } catch (SQLException failed) {
                failedAttempts.incrementAndGet();
                closeConnection();
                if (SqlErrors.isRetryable(failed)) {
                    throw failed; // the target itself is failing, not this table
                }
                failedTables.add(e.getKey());
                tableFailedListener.accept(e.getKey(), target.endpoint().scrub(String.valueOf(failed.getMessage())));
            }
        }
    }

    private void applyOn(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws SQLException {
        try {
            applyReduced(c, changes, keep, scope);
        } catch (SQLException e) {
            // A unique or foreign key of the target may reject the folded batch where the source's order would not
            // (two rows swapping a unique value): apply it once more change by change, in log order.
            if (!isConstraint(e)) {
                throw e;
            }
            inFlight = c;
            try {
                applyOneByOne(c, changes, keep, scope, e);
                applier.flush(c);
                c.commit();
            } catch (SQLException | RuntimeException again) {
                rollback(c);
                throw again;
            } finally {
                inFlight = null;
            }
        }
    }

    private void applyReduced(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws SQLException {
        inFlight = c;
        try {
            applyReduced(c, changes, keep, scope, true);
        } catch (SQLException | RuntimeException e) {
            rollback(c);
            throw e;
        } finally {
            inFlight = null;
        }
    }

    private void applyReduced(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope,
                              boolean commit) throws SQLException {
        for (ChangeReducer.TableBatch tb : ChangeReducer.reduce(changes)) {
            ChangeApplier.ApplyTable at = tables.get(tb.table());
            if (at == null || failedTables.contains(tb.table())) {
                continue; // a table the publication carries but this migration does not move, or one given up
            }
            if (tb.truncateFirst()) {
                applier.truncate(c, at, scope, keep.getOrDefault(tb.table(), List.of()));
            }
            if (!tb.changes().isEmpty()) {
                applier.apply(c, at, tb.changes());
            }
        }
        if (commit) {
            applier.flush(c);
            c.commit();
        }
    }

    private void rollback(Connection c) {
        applier.rolledBack(c);
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; it is replaced
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = target.connect();
            connection.setAutoCommit(false);
            for (String w : applier.prepare(connection)) {
                warn.accept(w);
            }
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // broken already
            }
            connection = null;
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
        Connection c = inFlight;
        if (immediate && c != null) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException ignored) {
                // gone already
            }
        }
        synchronized (applying) {
            closeConnection();
        }
    }

    /** Changes received and not applied yet: the batch being applied and those held back for chunks copying. */
    public long unapplied() {
        ChunkGates g = gates;
        return pending + carried + (g == null ? 0 : g.held());
    }

    public long received() {
        return received.get();
    }

    public long applied() {
        return applied.get();
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
        return skipped.get();
    }

    public long batches() {
        return batches.get();
    }

    /** Nanos (System.nanoTime) of the last batch handled. */
    public long lastApplyNanos() {
        return lastApplyNanos;
    }
}
