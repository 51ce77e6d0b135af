package dev.tandem.core.backfill;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.BlockStream;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.ChunkWriter;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Role;
import dev.tandem.core.store.ChunkRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One copy worker's hands: its own source and target connection, opened on first use and again after a failure, and
 * the copy of one chunk in one target transaction (delete the range when asked, stream the source's rows into it,
 * commit). What to copy next, retries and chunk statuses are {@link BackfillRunner}'s.
 */
final class ChunkCopier implements AutoCloseable {
    /** Key column types whose order is the engine's collation (OTHER: unknown, so assumed to be). */
    private static final Set<Integer> TEXT_TYPES = Set.of(Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR,
            Types.NVARCHAR, Types.LONGNVARCHAR, Types.CLOB, Types.OTHER);

    private final Connector source;
    private final Connector target;
    private final ChunkReader reader;
    private final ChunkWriter writer;
    private final DataMovement data;
    private final ChunkHooks hooks;
    private final BackfillListener listener;
    private final Throttle throttle;
    private final Consumer<String> warn;
    private volatile Connection sourceConn;
    private volatile Connection targetConn;

    /**
     * @param warn where the target writer's session warnings go (once per run is the caller's business)
     */
    ChunkCopier(Tables tables, ChunkHooks hooks, BackfillListener listener, Throttle throttle, Consumer<String> warn) {
        this.source = tables.source();
        this.target = tables.target();
        this.reader = reader(source);
        this.writer = writer(target);
        this.data = tables.manifest().data();
        this.hooks = hooks;
        this.listener = listener;
        this.throttle = throttle;
        this.warn = warn;
    }

    /** The source's chunk reader, or why this source cannot be copied from. */
    static ChunkReader reader(Connector source) {
        return source.chunkReader().orElseThrow(() -> TandemException.badInput("the " + source.name()
                + " connector cannot read chunks yet; this source is not supported for data movement"));
    }

    /** The target's chunk writer, or why this target cannot be copied to. */
    static ChunkWriter writer(Connector target) {
        return target.chunkWriter().orElseThrow(() -> TandemException.badInput("the " + target.name()
                + " connector cannot load chunks yet; this target is not supported for data movement"));
    }

    /** Copies one chunk in one target transaction; returns the rows loaded. {@code a} learns what happened. */
    long copy(TableJob job, ChunkRecord chunk, Attempt a, boolean clearFirst) throws Exception {
        a.side = Role.SOURCE;
        Connection src = source();
        a.side = Role.TARGET;
        Connection tgt = target();
        tgt.setAutoCommit(false);
        DataMovement.Replace mode = data.replace();
        if (clearFirst && mode == DataMovement.Replace.REPLACE) {
            if (rangesAgree(job)) {
                writer.deleteRange(tgt, job.target(), job.targetRange(chunk));
            } else {
                // the range means other rows on the target: the rows of the earlier attempt are replaced by key
                mode = DataMovement.Replace.MERGE;
            }
        }
        a.side = Role.SOURCE;
        try (BlockStream in = new Metered(reader.open(src, job.source(), job.columns(), job.sourceRange(chunk),
                job.format()), job.name(), a)) {
            a.side = Role.TARGET;
            long rows = writer.load(tgt, job.target(), job.columns(), job.format(), in, mode);
            a.side = Role.SOURCE;
            hooks.beforeCommit(chunk.tableName(), chunk.chunkNo(), src);
            a.side = Role.TARGET;
            tgt.commit();
            hooks.afterCommit(chunk.tableName(), chunk.chunkNo(), tgt);
            return rows;
        }
    }

    /**
     * Whether a key range holds the same rows on the target as on the source. Not so between two engines when a key
     * column is text: each orders it by its own collation (MySQL's case-insensitive ones, PostgreSQL's), so deleting
     * the target's range could take rows of other chunks, and a chunk copied again is replaced row by row instead.
     */
    private boolean rangesAgree(TableJob job) {
        if (source.name().equals(target.name())) {
            return true;
        }
        return job.source().keyColumns().stream().noneMatch(k -> job.source().column(k.name())
                .map(c -> TEXT_TYPES.contains(c.jdbcType())).orElse(true));
    }

    private Connection source() throws SQLException {
        if (sourceConn == null || sourceConn.isClosed()) {
            sourceConn = source.connect();
            sourceConn.setAutoCommit(true);
        }
        return sourceConn;
    }

    private Connection target() throws SQLException {
        if (targetConn == null || targetConn.isClosed()) {
            targetConn = target.connect();
            writer.prepare(targetConn).forEach(warn);
        }
        return targetConn;
    }

    /** Ends the connections of a chunk in flight at once (Ctrl-C); the copy fails and rolls back. Any thread. */
    void abort() {
        Executor direct = Runnable::run;
        for (Connection c : new Connection[] {sourceConn, targetConn}) {
            if (c != null) {
                try {
                    c.abort(direct);
                } catch (SQLException | RuntimeException ignored) {
                    // already gone
                }
            }
        }
    }

    /** Closes both connections; the next copy opens new ones. */
    @Override
    public void close() {
        for (Connection c : new Connection[] {sourceConn, targetConn}) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException | RuntimeException ignored) {
                    // a broken connection cannot be closed cleanly; it is dropped either way
                }
            }
        }
        sourceConn = null;
        targetConn = null;
    }

    /** What one attempt of a chunk did, and which side it was talking to when it failed. */
    static final class Attempt {
        volatile Role side = Role.SOURCE;
        long bytes;
        long streamedRows;
    }

    /** The reader's blocks, counted for progress and held back by the throttle; marks read failures as source. */
    private final class Metered implements BlockStream {
        private final BlockStream in;
        private final String table;
        private final Attempt attempt;
        private long reportedRows;

        Metered(BlockStream in, String table, Attempt attempt) {
            this.in = in;
            this.table = table;
            this.attempt = attempt;
        }

        @Override
        public byte[] next() throws SQLException {
            Role before = attempt.side;
            attempt.side = Role.SOURCE;
            byte[] block = in.next();
            attempt.side = before;
            if (block != null) {
                long rows = in.rows() - reportedRows;
                reportedRows = in.rows();
                attempt.bytes += block.length;
                attempt.streamedRows += rows;
                listener.rows(table, rows, block.length);
                try {
                    throttle.acquire(rows);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted", "57014");
                }
            }
            return block;
        }

        @Override
        public long rows() {
            return in.rows();
        }

        @Override
        public long bytes() {
            return in.bytes();
        }

        @Override
        public void close() throws SQLException {
            in.close();
        }
    }
}
