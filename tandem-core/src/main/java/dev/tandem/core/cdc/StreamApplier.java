package dev.tandem.core.cdc;

import dev.tandem.core.error.SqlErrors;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stream's sink: routes each change through the chunk gates (while a backfill copies), folds what is to be
 * applied with {@link ChangeReducer} and applies a whole batch of source transactions in one target transaction
 * (group commit). Returns from {@link #accept} only after that commit, so the stream confirms positions only past
 * changes the target holds (correctness point 4). Retryable target errors (connection lost, serialization) are
 * retried with backoff on a new connection; the apply is idempotent, so a batch applied twice is harmless.
 * <p>Replays of held-back changes ({@link #drain}) run on the copy worker's connection, in the same way.
 */
public final class StreamApplier implements ChangeCapture.ChangeSink {
    private static final Logger log = LoggerFactory.getLogger(StreamApplier.class);
    private static final int RETRIES = 5;

    private final Connector target;
    private final ChangeApplier applier;
    private final Map<String, ChangeApplier.ApplyTable> tables;
    private final Consumer<String> warn;
    private volatile ChunkGates gates;
    private Connection connection;

    private final Object applying = new Object();
    private volatile boolean closing;
    private volatile Connection inFlight;

    private final AtomicLong received = new AtomicLong();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private volatile long pending;
    private volatile String appliedPosition;
    private volatile Instant appliedCommitAt;
    private volatile long lastApplyNanos = System.nanoTime();
    private final Map<String, CountDownLatch> fences = new ConcurrentHashMap<>();

    public StreamApplier(Connector target, ChangeApplier applier, Map<String, ChangeApplier.ApplyTable> tables,
                         Consumer<String> warn) {
        this.target = target;
        this.applier = applier;
        this.tables = Map.copyOf(tables);
        this.warn = warn;
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
            ChunkGates g = gates;
            List<Change> apply = new ArrayList<>(batch.size());
            Map<String, List<KeyRange>> keep = new HashMap<>();
            List<String> markers = new ArrayList<>();
            for (Change c : batch) {
                switch (c.kind()) {
                    case MARKER -> {
                        if (c.marker() != null) {
                            markers.add(c.marker());
                        }
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
            if (!apply.isEmpty()) {
                applyWithRetries(apply, keep, null);
                applied.addAndGet(apply.size());
            }
            Change last = batch.get(batch.size() - 1);
            appliedPosition = last.position();
            for (int i = batch.size() - 1; i >= 0; i--) {
                if (batch.get(i).committedAt() != null) {
                    appliedCommitAt = batch.get(i).committedAt();
                    break;
                }
            }
            pending = 0;
            batches.incrementAndGet();
            lastApplyNanos = System.nanoTime();
            for (String m : markers) {
                fences.computeIfAbsent(m, k -> new CountDownLatch(1)).countDown();
            }
            return true;
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
        applyOn(worker, changes, keep, scope);
        applied.addAndGet(changes.size());
    }

    private void applyWithRetries(List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                applyOn(connection(), changes, keep, scope);
                return;
            } catch (SQLException e) {
                closeConnection();
                if (closing || attempt >= RETRIES || !SqlErrors.isRetryable(e)) {
                    throw e;
                }
                log.warn("applying {} changes failed (attempt {}), retrying: {}", changes.size(), attempt + 1,
                        target.endpoint().scrub(String.valueOf(e.getMessage())));
                Thread.sleep(Math.min(10_000, 200L << attempt));
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
            if (e.getSQLState() == null || !e.getSQLState().startsWith("23")) {
                throw e;
            }
            log.info("a folded batch hit a constraint ({}); applying its {} changes one by one", e.getSQLState(),
                    changes.size());
            inFlight = c;
            try {
                for (Change ch : changes) {
                    applyReduced(c, List.of(ch), keep, scope, false);
                }
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
            if (at == null) {
                continue; // a table the publication carries but this migration does not move
            }
            if (tb.truncateFirst()) {
                applier.truncate(c, at, scope, keep.getOrDefault(tb.table(), List.of()));
            }
            if (!tb.changes().isEmpty()) {
                applier.apply(c, at, tb.changes());
            }
        }
        if (commit) {
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
        return fences.computeIfAbsent(fence, k -> new CountDownLatch(1)).await(timeout, unit);
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
        return pending + (g == null ? 0 : g.held());
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

    public long batches() {
        return batches.get();
    }

    /** Nanos (System.nanoTime) of the last batch handled. */
    public long lastApplyNanos() {
        return lastApplyNanos;
    }
}
