package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Reading the source's changes as a stream (DESIGN.md correctness points 1 and 4). The stream is named per
 * migration ({@code Streams.name}); everything this capability creates on the source carries that name so abort
 * can drop it, and records its owner (the exact migration id) so that no other migration takes or drops it.
 */
public interface ChangeCapture {

    /** How positions read ({@code lsn}, ...); the same as the connector's {@link ChangeLog#positionKind()}. */
    String positionKind();

    /**
     * Called in prepare, before the first chunk is copied: creates what the stream reads from (PostgreSQL: the
     * publication for {@code tables} and a logical replication slot) unless it already exists, and returns P0, the
     * position from which every change will be delivered. Idempotent for the same {@code owner}: a second call
     * returns the existing P0.
     *
     * @param owner what the stream is recorded as belonging to ({@code Streams.owner}: the exact migration id)
     * @throws SQLException when the source refuses (privileges, slots exhausted); nothing half-made is left behind
     * @throws dev.tandem.core.error.TandemException BAD_STATE when a stream of that name exists and is not recorded as
     *         {@code owner}'s: it belongs to another migration (or another store's), and is left as it is
     */
    String open(Connection source, String streamName, String owner, List<TableRef> tables) throws SQLException;

    /**
     * Drops what {@link #open} created (abort, cleanup). No error when it is already gone. A stream of that name not
     * recorded as {@code owner}'s is left alone (logged): it is another migration's.
     */
    void drop(Connection source, String streamName, String owner) throws SQLException;

    /**
     * Writes a marker into the change log and returns its position. The stream later delivers a
     * {@link Change.Kind#MARKER} change carrying {@code marker}, after every change logged before it: once that
     * marker is applied, the target holds everything the source had committed when this was called.
     */
    String fence(Connection source, String marker) throws SQLException;

    /**
     * How far the source itself was told the stream is done (PostgreSQL: the slot's {@code confirmed_flush_lsn}),
     * read before each start: the stream must never have confirmed past the position Tandem's store holds, else the
     * source may already have discarded the changes between. Empty when the capture keeps no position on the source
     * (timestamp polling) or the stream's slot is gone.
     */
    default Optional<String> confirmedAtSource(Connection source, String streamName) throws SQLException {
        return Optional.empty();
    }

    /**
     * Why the stream's state on the source is gone for good, if it is (PostgreSQL: its slot was dropped, or
     * invalidated after holding more WAL than the source allows), read after the stream failed: a stream that cannot
     * resume must not be told it will. Empty while the stream could resume from its confirmed position, and for a
     * capture that keeps nothing on the source. An error means the source cannot be asked now.
     */
    default Optional<String> streamGone(Connection source, String streamName) throws SQLException {
        return Optional.empty();
    }

    /** The source's newest position, now (for lag). */
    String currentPosition(Connection source) throws SQLException;

    /**
     * A counter of the row changes made to {@code tables} so far, that only grows (PostgreSQL: the inserted, updated
     * and deleted tuples of pg_stat_user_tables, which lag commits by up to a second), for estimating how many
     * changes of the source's log the stream has not applied yet. Empty when the source keeps no such counter.
     */
    default java.util.OptionalLong changesSoFar(Connection source, List<TableRef> tables) throws SQLException {
        return java.util.OptionalLong.empty();
    }

    /** Bytes of change log from {@code from} to {@code to}; 0 when {@code to} is not after {@code from}. */
    long distance(String from, String to);

    /**
     * Whether {@link #distance} counts bytes of log. A capture with no log (timestamp polling) measures it in
     * milliseconds of source clock instead, and its lag reports no bytes.
     */
    default boolean distanceInBytes() {
        return true;
    }

    /**
     * Starts streaming on the capture's own threads, from the offsets {@code spec.offsets()} holds (or from P0 when
     * it holds none). Returns at once.
     */
    ChangeStream start(StreamSpec spec);

    /**
     * What a stream needs. {@code heartbeat} also keeps an idle source's log position moving.
     * <p>{@code keepTransactions}: the stream marks the end of each source transaction with a
     * {@link Change.Kind#COMMIT} change, and confirms positions only at those ends: a batch may end inside a source
     * transaction, and the sink may hold that part applied but not committed on the target until the transaction's
     * COMMIT comes in a later batch; after a restart the stream delivers that transaction again from its start.
     */
    record StreamSpec(String streamName, List<TableInfo> tables, Duration heartbeat, int maxBatch,
                      OffsetStore offsets, ChangeSink sink, boolean keepTransactions) {
    }

    /**
     * Whether {@link #fence} writes its marker into the source's log, so that a stream running in another process
     * delivers it too. False for a capture whose fences are positions known only to the process streaming (binlog):
     * another process then waits until the stream's stored position passed the source's position instead.
     */
    default boolean marksLog() {
        return true;
    }

    /** Whether {@link StreamSpec#keepTransactions} can be honoured: the log knows the source's transactions. */
    default boolean knowsTransactions() {
        return true;
    }

    /**
     * Receives changes in log order. {@link #accept} returns true only once each change of the batch is committed
     * on the target, dropped, or held back for a chunk that will be copied again after a crash (correctness point
     * 4): the stream then may confirm positions up to the batch's end. False: the sink is stopping and took nothing;
     * the stream confirms nothing of the batch and should end. An exception stops the stream; nothing of the batch
     * is confirmed.
     */
    interface ChangeSink {
        boolean accept(List<Change> batch) throws Exception;
    }

    /** Where the stream keeps its own resume state (opaque text), and the confirmed position with it. */
    interface OffsetStore {
        Optional<String> load();

        /**
         * The confirmed position: P0 before the stream confirmed anything, for a capture whose stream starts from a
         * position rather than from state kept on the source (a slot).
         */
        default Optional<String> confirmed() {
            return Optional.empty();
        }

        void save(String offsets, String confirmedPosition);
    }

    /** A running stream. */
    interface ChangeStream extends AutoCloseable {
        /** False once the stream ended, by {@link #close} or by a failure. */
        boolean running();

        /** Why the stream ended on its own, if it did. */
        Optional<Throwable> failure();

        /** Stops streaming and waits for the stream's threads; positions confirmed so far stay confirmed. */
        @Override
        void close();
    }
}
