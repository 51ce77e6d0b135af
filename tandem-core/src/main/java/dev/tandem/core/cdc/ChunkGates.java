package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * DESIGN.md correctness point 3, the per-chunk rule, for the changes that arrive while a backfill copies. For a
 * change of key k in chunk C: C not started → drop it (the copy will read newer rows); C started → hold it back
 * and replay it right after C's copy commits; C passed → apply it. A key in no chunk of the run (beyond the last
 * chunk's bound, or in a range an earlier run already copied) is applied.
 * <p>Each chunk's state and buffer sit behind the chunk's lock: routing a change and the final drain of the buffer
 * exclude each other, so no change can be held back after the last drain (it would be lost). A copy worker marks its
 * chunk started before its copy takes the snapshot, so a dropped change is always older than that snapshot.
 * Replaying held-back changes that the snapshot already contains is harmless: each change is a whole row, a delete,
 * or the new values of some columns, so replaying a suffix of a key's changes in order ends in the key's latest
 * state.
 * <p>Tables whose key Java cannot order like the database (text in a collation) get one gate for the whole table,
 * started before the first chunk and passed when the last chunk passed: all their changes are held back (spilling
 * to disk past the memory budget) and replayed once the table is copied. That is the same rule with one big chunk.
 */
public final class ChunkGates {
    /** What to do with a change now. */
    public enum Route {
        APPLY,
        DROP,
        HELD
    }

    enum State {
        NOT_STARTED,
        STARTED,
        PASS,
        FAILED
    }

    /** Applies held-back changes of one gate, in order, in the caller's transaction; commits before returning. */
    public interface Drain {
        /**
         * @param scope the range of the gate; a TRUNCATE among {@code changes} empties only this range
         */
        void apply(List<Change> changes, KeyRange scope) throws Exception;
    }

    private final Map<String, TableGates> tables = new HashMap<>();
    private final Path spillDir;
    private final AtomicLong budget;
    private final int drainBatch;
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    /**
     * @param memoryBudget bytes all held-back changes may take in memory before they spill to {@code spillDir}
     */
    public ChunkGates(Path spillDir, long memoryBudget, int drainBatch) {
        this.spillDir = spillDir;
        this.budget = new AtomicLong(memoryBudget);
        this.drainBatch = drainBatch;
    }

    /** Declares a table of the run with its chunks still to copy (ranges in the target's key types). */
    public void addTable(String table, List<KeyColumn> key, List<ChunkSpec> chunks) {
        tables.put(table, new TableGates(table, KeyOrder.of(key), chunks));
    }

    /** One chunk to copy: its number and key range (lower exclusive unless {@code lowerInclusive}, upper inclusive). */
    public record ChunkSpec(int chunkNo, KeyRange range) {
    }

    /** Decides a data change's fate; a held change is already in its gate's buffer when this returns. */
    public Route route(Change c) {
        TableGates t = tables.get(c.table());
        if (t == null || c.kind() == Change.Kind.MARKER) {
            return Route.APPLY;
        }
        if (c.kind() == Change.Kind.TRUNCATE) {
            throw new IllegalArgumentException("route a TRUNCATE with truncate()");
        }
        Gate g = t.gateFor(c.key());
        return g == null ? Route.APPLY : g.route(c);
    }

    /**
     * A TRUNCATE of {@code table}: every started gate holds it back (its replay empties that gate's range); returns
     * the ranges the caller must leave alone when it empties the table now (those of chunks not passed yet, whose
     * rows the copy and the replay take care of). Empty: truncate the whole table. Null: a whole-table gate held it
     * back; nothing to do now. A chunk whose attempt failed stays started and keeps holding changes for its retry.
     */
    public List<KeyRange> truncate(Change c) {
        TableGates t = tables.get(c.table());
        if (t == null) {
            return List.of();
        }
        List<KeyRange> keep = new ArrayList<>();
        for (Gate g : t.gates) {
            synchronized (g) {
                if (g.state == State.PASS) {
                    continue;
                }
                if (g.state == State.STARTED) {
                    g.buffer.add(c);
                    held.incrementAndGet();
                }
                if (g.range == null) {
                    return null; // whole-table gate: held back entirely, nothing to do now
                }
                keep.add(g.range);
            }
        }
        return keep;
    }

    /** A copy worker is about to take the snapshot of this chunk. */
    public void started(String table, int chunkNo) {
        TableGates t = tables.get(table);
        if (t == null) {
            return;
        }
        Gate g = t.byChunk.get(chunkNo);
        if (g == null) {
            return; // a whole-table gate: started when the table was declared
        }
        synchronized (g) {
            if (g.state == State.NOT_STARTED) {
                g.state = State.STARTED;
            }
        }
    }

    /**
     * A chunk's copy committed: replays its held changes through {@code drain} until none are left, then passes the
     * gate. Called by the worker that copied it, before the chunk is marked PASS in the store. For a whole-table gate,
     * only the table's last chunk drains.
     */
    public void committed(String table, int chunkNo, Drain drain) throws Exception {
        TableGates t = tables.get(table);
        if (t == null) {
            return;
        }
        Gate g = t.byChunk.get(chunkNo);
        if (g == null) {
            synchronized (t) {
                if (--t.remaining > 0) {
                    return;
                }
            }
            g = t.whole;
        }
        while (true) {
            SpillBuffer taken;
            synchronized (g) {
                if (g.buffer.isEmpty()) {
                    g.state = State.PASS;
                    return;
                }
                taken = g.buffer;
                g.buffer = new SpillBuffer(spillDir, budget);
            }
            long n = taken.size();
            KeyRange scope = g.range;
            taken.drain(drainBatch, changes -> drain.apply(changes, scope));
            held.addAndGet(-n);
        }
    }

    /** The table was given up (allow_partial): its changes are dropped from now on. */
    public void tableFailed(String table) {
        TableGates t = tables.get(table);
        if (t == null) {
            return;
        }
        for (Gate g : t.gates) {
            synchronized (g) {
                held.addAndGet(-g.buffer.size());
                g.buffer.discard();
                g.state = State.FAILED;
            }
        }
    }

    /** Forgets every held change (the run stopped; its unfinished chunks are copied again next time). */
    public void discardAll() {
        for (TableGates t : tables.values()) {
            for (Gate g : t.gates) {
                synchronized (g) {
                    g.buffer.discard();
                }
            }
        }
        held.set(0);
    }

    /** Changes held back now, in memory or spilled. */
    public long held() {
        return held.get();
    }

    public long dropped() {
        return dropped.get();
    }

    /** Whether every gate passed (or failed): nothing is held back any more. */
    public boolean allPassed() {
        for (TableGates t : tables.values()) {
            for (Gate g : t.gates) {
                synchronized (g) {
                    if (g.state == State.NOT_STARTED || g.state == State.STARTED) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private final class TableGates {
        final List<Gate> gates = new ArrayList<>();
        final Map<Integer, Gate> byChunk = new HashMap<>();
        final Comparator<List<String>> order;
        final Gate whole;
        int remaining;

        TableGates(String table, Optional<Comparator<List<String>>> order, List<ChunkSpec> chunks) {
            this.order = order.orElse(null);
            if (this.order == null) {
                whole = new Gate(null, chunks.isEmpty() ? State.PASS : State.STARTED);
                gates.add(whole);
                remaining = chunks.size();
                return;
            }
            whole = null;
            List<ChunkSpec> sorted = new ArrayList<>(chunks);
            sorted.sort((a, b) -> compareLower(a.range(), b.range()));
            for (ChunkSpec c : sorted) {
                Gate g = new Gate(c.range(), State.NOT_STARTED);
                gates.add(g);
                byChunk.put(c.chunkNo(), g);
            }
        }

        private int compareLower(KeyRange a, KeyRange b) {
            if (a.lower() == null || b.lower() == null) {
                return a.lower() == null ? (b.lower() == null ? 0 : -1) : 1;
            }
            return order.compare(a.lower(), b.lower());
        }

        /** The gate whose range holds {@code key}, or null when no chunk of this run covers it. */
        Gate gateFor(List<String> key) {
            if (whole != null) {
                return whole;
            }
            int lo = 0;
            int hi = gates.size() - 1;
            // the last gate whose lower bound is below the key (or inclusive-equal)
            int found = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (aboveLower(gates.get(mid).range, key)) {
                    found = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            if (found < 0) {
                return null;
            }
            Gate g = gates.get(found);
            List<String> upper = g.range.upper();
            return upper == null || order.compare(key, upper) <= 0 ? g : null;
        }

        private boolean aboveLower(KeyRange r, List<String> key) {
            if (r.lower() == null) {
                return true;
            }
            int c = order.compare(key, r.lower());
            return c > 0 || (c == 0 && r.lowerInclusive());
        }
    }

    private final class Gate {
        final KeyRange range;
        State state;
        SpillBuffer buffer = new SpillBuffer(spillDir, budget);

        Gate(KeyRange range, State state) {
            this.range = range;
            this.state = state;
        }

        synchronized Route route(Change c) {
            switch (state) {
                case NOT_STARTED, FAILED -> {
                    dropped.incrementAndGet();
                    return Route.DROP;
                }
                case STARTED -> {
                    buffer.add(c);
                    held.incrementAndGet();
                    return Route.HELD;
                }
                default -> {
                    return Route.APPLY;
                }
            }
        }
    }
}
