package dev.tandem.core.verify;

import dev.tandem.core.spi.Change;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The rows the stream applied, waiting to be compared again by key (continuous verification). Bounded: past
 * {@link #MAX_QUEUED} keys are not queued but counted (the full passes still cover their rows).
 */
final class AppliedRows {
    static final int MAX_QUEUED = 100_000;

    private record Applied(long atNanos, String table, List<String> key) {
    }

    /** Keys taken for one comparison, by table, and when the oldest of them was applied. */
    record Due(Map<String, Set<List<String>>> byTable, long oldestNanos, int count) {
    }

    private final Set<String> tables;
    private final ConcurrentLinkedQueue<Applied> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong queued = new AtomicLong();
    private final AtomicLong notQueued = new AtomicLong();

    /** @param tables the tables verified; rows of others are not queued */
    AppliedRows(Set<String> tables) {
        this.tables = tables;
    }

    /** A batch the stream committed: its rows (upserts, updates, deletes) queue, stamped now. */
    void applied(List<Change> batch) {
        long now = System.nanoTime();
        for (Change c : batch) {
            if (c.kind() != Change.Kind.UPSERT && c.kind() != Change.Kind.PARTIAL_UPDATE
                    && c.kind() != Change.Kind.DELETE || !tables.contains(c.table())) {
                continue;
            }
            if (queued.get() >= MAX_QUEUED) {
                notQueued.incrementAndGet();
                continue;
            }
            queued.incrementAndGet();
            queue.add(new Applied(now, c.table(), c.key()));
        }
    }

    /** Takes up to {@code max} keys applied at or before {@code dueNanos}, oldest first. */
    Due take(long dueNanos, int max) {
        Map<String, Set<List<String>>> byTable = new LinkedHashMap<>();
        long oldest = Long.MAX_VALUE;
        int n = 0;
        while (n < max) {
            Applied a = queue.peek();
            if (a == null || a.atNanos() > dueNanos) {
                break;
            }
            queue.poll();
            queued.decrementAndGet();
            byTable.computeIfAbsent(a.table(), k -> new LinkedHashSet<>()).add(a.key());
            oldest = Math.min(oldest, a.atNanos());
            n++;
        }
        return new Due(byTable, oldest, n);
    }

    /** When the oldest waiting key was applied, or null when none waits. */
    Long oldestNanos() {
        Applied a = queue.peek();
        return a == null ? null : a.atNanos();
    }

    long queued() {
        return queued.get();
    }

    long notQueued() {
        return notQueued.get();
    }
}
