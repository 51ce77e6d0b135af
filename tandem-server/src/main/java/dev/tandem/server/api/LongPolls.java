package dev.tandem.server.api;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing long polls waiting for a newer epoch, held without a thread each: one watcher thread wakes on every
 * change in this process (and every 100 ms for another process's), reads each waited-for migration once, and answers
 * the polls whose epoch passed or whose wait ran out. A poll held a server thread before, and 300 of them starved
 * {@code /health} for 11 s; now the server's threads stay free, and a token may hold at most {@code maxPerToken}
 * polls at once (a fleet of routers shares one token; one misbehaving client must not hold the server's memory).
 */
final class LongPolls implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LongPolls.class);

    private record Waiter(String migrationId, long afterEpoch, long deadlineNanos,
                          CompletableFuture<MigrationRecord> answer) {
    }

    private final ControlStore store;
    private final int maxPerToken;
    private final List<Waiter> waiting = new ArrayList<>();
    private final Map<String, AtomicInteger> perHolder = new ConcurrentHashMap<>();
    private final Thread watcher;
    private volatile boolean closed;

    LongPolls(ControlStore store, int maxPerToken) {
        this.store = store;
        this.maxPerToken = maxPerToken;
        this.watcher = new Thread(this::watch, "tandem-long-polls");
        watcher.setDaemon(true);
        watcher.start();
    }

    /**
     * The migration once its epoch passes {@code afterEpoch}, or as it is when {@code waitMillis} ran out.
     *
     * @param holder who holds the poll (the token's fingerprint): at most {@code maxPerToken} at once
     * @throws Envelope.ApiError 429 when {@code holder} already holds {@code maxPerToken} polls
     */
    CompletableFuture<MigrationRecord> await(String migrationId, long afterEpoch, long waitMillis, String holder) {
        AtomicInteger held = perHolder.computeIfAbsent(holder, h -> new AtomicInteger());
        if (held.incrementAndGet() > maxPerToken) {
            held.decrementAndGet();
            throw new Envelope.ApiError(429, ErrorCode.BAD_STATE, "this token already holds " + maxPerToken
                    + " routing long polls (the server's cap, --max-long-polls " + maxPerToken + "); a router holds "
                    + "one at a time: give each fleet of routers its own router token, or raise --max-long-polls");
        }
        CompletableFuture<MigrationRecord> answer = new CompletableFuture<>();
        answer.whenComplete((r, e) -> held.decrementAndGet());
        if (closed) {
            answer.completeExceptionally(TandemException.badState("the server is stopping; ask again"));
            return answer;
        }
        synchronized (waiting) {
            waiting.add(new Waiter(migrationId, afterEpoch, System.nanoTime() + waitMillis * 1_000_000L, answer));
        }
        store.changed(); // wakes the watcher, which sets its next wake-up by this poll's deadline
        return answer;
    }

    /** Polls held now (for the metrics and tests). */
    int held() {
        synchronized (waiting) {
            return waiting.size();
        }
    }

    private void watch() {
        while (!closed) {
            try {
                store.awaitChange(nextWakeMillis());
                answerDue();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // the store is unreachable for a moment: the polls keep waiting until their deadline
                LOG.warn("routing long polls: cannot read the store ({}); retrying", e.getMessage());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Another process's change is only seen by reading: at most 100 ms, less when a deadline comes sooner. */
    private long nextWakeMillis() {
        long now = System.nanoTime();
        long wake = 100;
        synchronized (waiting) {
            for (Waiter w : waiting) {
                wake = Math.min(wake, Math.max(1, (w.deadlineNanos() - now) / 1_000_000L));
            }
        }
        return wake;
    }

    private void answerDue() {
        List<Waiter> now;
        synchronized (waiting) {
            if (waiting.isEmpty()) {
                return;
            }
            now = new ArrayList<>(waiting);
        }
        Map<String, MigrationRecord> read = new HashMap<>();
        List<Waiter> done = new ArrayList<>();
        long t = System.nanoTime();
        for (Waiter w : now) {
            MigrationRecord r;
            try {
                r = read.computeIfAbsent(w.migrationId(), id -> store.migrations().get(id));
            } catch (TandemException e) {
                w.answer().completeExceptionally(e); // deleted while polled: the router hears 404
                done.add(w);
                continue;
            }
            if (r.version() > w.afterEpoch() || t - w.deadlineNanos() >= 0) {
                w.answer().complete(r);
                done.add(w);
            }
        }
        synchronized (waiting) {
            waiting.removeAll(done);
        }
    }

    /** Answers every held poll with "the server is stopping" (a router keeps its state and asks again). */
    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
        List<Waiter> left;
        synchronized (waiting) {
            left = new ArrayList<>(waiting);
            waiting.clear();
        }
        for (Waiter w : left) {
            w.answer().completeExceptionally(TandemException.badState("the server is stopping; ask again"));
        }
    }
}
