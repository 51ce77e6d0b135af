package dev.tandem.core.verify;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.store.ChunkRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Continuous verification's full passes over every table, chunk after chunk, at most {@code rows_per_second}: which
 * chunk comes next and when, and when each chunk was last seen equal (the start of a drift's detection latency).
 */
final class FullPass {
    private final Map<String, TableJob> jobs;
    private final ChunkPlanner planner;
    private final long rowsPerSecond;
    private final long startNanos = System.nanoTime();
    private final Deque<ChunkRecord> pass = new ArrayDeque<>();
    private final Map<String, Long> lastEqual = new HashMap<>();
    private long nextChunkNanos;
    private boolean planned;
    private volatile long passes;

    FullPass(Map<String, TableJob> jobs, ChunkPlanner planner, long rowsPerSecond) {
        this.jobs = jobs;
        this.planner = planner;
        this.rowsPerSecond = rowsPerSecond;
    }

    /** Whether the rate limit lets the next chunk start now. */
    boolean due() {
        return System.nanoTime() >= nextChunkNanos;
    }

    /**
     * The next chunk to compare, planning a new pass (on the source connection {@code s}) when the last one ended;
     * null when every table is empty (the next pass is planned in a second).
     */
    ChunkRecord next(Connection s) throws SQLException {
        if (pass.isEmpty()) {
            if (planned) {
                passes++;
            }
            for (TableJob job : jobs.values()) {
                pass.addAll(VerifyPlan.chunks(planner, s, job));
            }
            planned = true;
            if (pass.isEmpty()) {
                nextChunkNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                return null;
            }
        }
        return pass.poll();
    }

    /** When {@code chunk} was last seen equal (or when verification started). */
    long lastEqual(ChunkRecord chunk) {
        return lastEqual.getOrDefault(key(chunk), startNanos);
    }

    /** {@code chunk}, {@code rows} rows, was compared from {@code seenAt}: the next chunk waits its rows' time. */
    void compared(ChunkRecord chunk, long rows, long seenAt) {
        lastEqual.put(key(chunk), seenAt);
        nextChunkNanos = System.nanoTime() + (long) (Math.max(1, rows) * 1e9 / rowsPerSecond);
    }

    /** Full passes over every table finished. */
    long passes() {
        return passes;
    }

    private static String key(ChunkRecord chunk) {
        return chunk.tableName() + "#" + chunk.chunkNo();
    }
}
