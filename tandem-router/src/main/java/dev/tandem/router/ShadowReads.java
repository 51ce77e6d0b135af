package dev.tandem.router;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow reads, off the application's thread: a read the application ran is run again on both sides and the two
 * results compared as multisets of rows (order-insensitive; a hash per row, summed). A difference is only suspect —
 * the target may not have applied the newest source change yet — so it is compared once more after
 * {@link #RECHECK_MS}; only a difference that survives counts as a mismatch. At most {@link #QUEUE} reads wait; more
 * are dropped and counted, so shadow reads never slow the application down or hold its memory.
 */
final class ShadowReads implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShadowReads.class);
    static final long RECHECK_MS = 1000;
    private static final int QUEUE = 1000;
    private static final int MAX_ROWS = 100_000;

    private final DataSource source;
    private final DataSource target;
    private final RouterStats stats;
    private final ThreadPoolExecutor pool;

    /** A read to repeat: its SQL and the parameter setters the application called, in order. */
    record Read(String sql, List<Invocation> params) {
    }

    /** One recorded call on a statement (a parameter setter). */
    record Invocation(Method method, Object[] args) {
        void replay(Object on) throws Exception {
            try {
                method.invoke(on, args);
            } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause() instanceof Exception x ? x : e;
            }
        }
    }

    ShadowReads(DataSource source, DataSource target, RouterStats stats) {
        this.source = source;
        this.target = target;
        this.stats = stats;
        this.pool = new ThreadPoolExecutor(1, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE), r -> {
            Thread t = new Thread(r, "tandem-shadow-reads");
            t.setDaemon(true);
            return t;
        });
    }

    void submit(Read read) {
        try {
            pool.execute(() -> compare(read));
            stats.shadowReads.increment();
        } catch (RejectedExecutionException e) {
            stats.shadowDropped.increment();
        }
    }

    private void compare(Read read) {
        try {
            if (digest(source, read) == digest(target, read)) {
                stats.shadowMatches.increment();
                return;
            }
            Thread.sleep(RECHECK_MS);
            if (digest(source, read) == digest(target, read)) {
                stats.shadowMatches.increment();
                return;
            }
            stats.shadowMismatches.increment();
            LOG.warn("shadow read: source and target return different rows for {}",
                    read.sql().length() > 200 ? read.sql().substring(0, 200) + " ..." : read.sql());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            stats.shadowErrors.increment();
            LOG.debug("shadow read failed: {}", e.toString());
        }
    }

    /** Row count and order-insensitive hash of the read's result on one side. */
    private static long digest(DataSource side, Read read) throws Exception {
        try (Connection c = side.getConnection()) {
            c.setReadOnly(true);
            if (read.params().isEmpty()) {
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(read.sql())) {
                    return digest(rs);
                }
            }
            try (PreparedStatement ps = c.prepareStatement(read.sql())) {
                for (Invocation i : read.params()) {
                    i.replay(ps);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    return digest(rs);
                }
            }
        }
    }

    private static long digest(ResultSet rs) throws SQLException {
        int n = rs.getMetaData().getColumnCount();
        long sum = 0;
        long rows = 0;
        while (rs.next() && rows < MAX_ROWS) {
            long h = 0xcbf29ce484222325L;
            for (int i = 1; i <= n; i++) {
                Object v = rs.getObject(i);
                String text = v == null ? "\u0000null" : v instanceof byte[] b ? Arrays.toString(b) : v.toString();
                for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
                    h = (h ^ (b & 0xff)) * 0x100000001b3L;
                }
                h = (h ^ 0x1f) * 0x100000001b3L;
            }
            sum += h;
            rows++;
        }
        return sum * 31 + rows;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
