package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongBiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cdc.apply: source_transactions}: each source transaction becomes one target transaction, committed at its
 * {@link Change.Kind#COMMIT} together with the record of its position ({@link ChangeApplier.AppliedPositions}), so a
 * reader of the target only ever sees states the source had. A batch that ends inside a transaction leaves that part
 * written and uncommitted on the stream's connection; the next batch continues it (the stream confirms nothing past
 * the last COMMIT meanwhile). A retryable error while such a part is open cannot be retried here (its changes are
 * gone from memory): the stream fails and a restart delivers the transaction again from its start — and
 * transactions the target recorded as committed are then rolled back instead of written twice.
 */
final class SourceTransactions {
    private static final Logger log = LoggerFactory.getLogger(SourceTransactions.class);

    private final TargetWrites writes;
    private final ChangeApplier.AppliedPositions positions;
    private final String streamName;
    private final ToLongBiFunction<String, String> distance;
    private final Routed.Router router;
    private final Retry retry;
    /** Transactions ending at or before this position are on the target already. */
    private String skipThrough;
    private boolean skipRead;
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong committed = new AtomicLong();
    /** Changes of an unfinished source transaction written, not committed, on the target. */
    private volatile long carried;

    /**
     * @param streamName the name the target records the stream's position under
     * @param distance   the capture's {@link dev.tandem.core.spi.ChangeCapture#distance}
     * @param router     the stream applier's routing of each change (chunk gates, fences) and its lag bookkeeping
     */
    SourceTransactions(TargetWrites writes, ChangeApplier.AppliedPositions positions, String streamName,
                       ToLongBiFunction<String, String> distance, Routed.Router router,
                       Retry retry) {
        this.writes = writes;
        this.positions = positions;
        this.streamName = streamName;
        this.distance = distance;
        this.router = router;
        this.retry = retry;
    }

    /**
     * One target commit per source COMMIT in {@code batch}; the changes after its last COMMIT are written into the
     * open target transaction, which the next batch continues.
     */
    void accept(List<Change> batch, Routed routed) throws Exception {
        if (!skipRead) {
            skipThrough = positions.applied(writes.connection(), streamName);
            skipRead = true;
            if (skipThrough != null) {
                log.info("the target holds the source transactions up to {}; the stream skips them", skipThrough);
            }
        }
        for (int i = 0; i < batch.size(); i++) {
            Change c = batch.get(i);
            router.route(c, routed);
            if (c.kind() == Change.Kind.COMMIT) {
                if (skipThrough != null && c.position() != null
                        && distance.applyAsLong(skipThrough, c.position()) == 0) {
                    rollbackSkipped(routed); // delivered again after a restart; committed here before
                } else {
                    writeAndCommit(routed, c.position());
                }
                router.handled(i, batch);
            } else if (c.kind() == Change.Kind.MARKER && routed.apply.isEmpty() && carried == 0) {
                router.handled(i, batch); // between transactions: a heartbeat or fence moves the position
            }
        }
        if (!routed.apply.isEmpty()) {
            writeAndCommit(routed, null);
        }
    }

    /** A source transaction the target already holds: its part written in the open transaction is rolled back. */
    private void rollbackSkipped(Routed routed) {
        if (carried > 0) {
            writes.rollbackOpen();
        }
        carried = 0;
        skipped.incrementAndGet();
        routed.clear();
    }

    /**
     * Writes the changes of one source transaction routed so far on the stream's connection, after the part an
     * earlier batch left open there; when the transaction ended ({@code commitAt} its position), records that
     * position on the target and commits; else leaves it open. Retries (a new connection, the part again) only while
     * no earlier part is open. Empties {@code routed}.
     */
    private void writeAndCommit(Routed routed, String commitAt) throws Exception {
        boolean commit = commitAt != null;
        for (int attempt = 0; ; attempt++) {
            writes.attempted();
            Connection c = writes.connection();
            writes.inFlight(c);
            try {
                if (carried > 0) {
                    if (!routed.apply.isEmpty()) {
                        writes.writeAfterSavepoint(c, routed.apply, routed.keep);
                    }
                    if (commit) {
                        positions.record(c, streamName, commitAt);
                        writes.applier().flush(c);
                    }
                } else {
                    writes.writeFirstPart(c, routed.apply, routed.keep, commit
                            ? on -> positions.record(on, streamName, commitAt) : on -> { });
                }
                if (commit) {
                    c.commit();
                    committed.addAndGet(carried + routed.apply.size());
                    carried = 0;
                } else {
                    carried += routed.apply.size();
                }
                routed.clear();
                return;
            } catch (SQLException | RuntimeException e) {
                writes.failed();
                boolean open = carried > 0;
                writes.rollback(c);
                writes.closeConnection();
                carried = 0;
                if (open || !(e instanceof SQLException se) || !retry.again(se, attempt)) {
                    throw e;
                }
                log.warn("applying a source transaction failed (attempt {}), retrying: {}", attempt + 1,
                        writes.scrub(e));
                Thread.sleep(Math.min(10_000, 200L << attempt));
            } finally {
                writes.inFlight(null);
            }
        }
    }

    /** Changes written into the open target transaction, not committed yet. */
    long carried() {
        return carried;
    }

    /** Source transactions rolled back because the target held them already (after a restart). */
    long skipped() {
        return skipped.get();
    }

    /** Changes committed. */
    long committed() {
        return committed.get();
    }

    /** Whether a failed attempt is tried again (the stream applier's policy, and not while it closes). */
    interface Retry {
        boolean again(SQLException e, int attempt);
    }
}
