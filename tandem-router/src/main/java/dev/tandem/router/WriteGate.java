package dev.tandem.router;

import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The gate every write transaction passes when it begins. Open, passing costs two atomic operations. Closed (a
 * cutover or rollback froze writes), new write transactions wait until it opens again, at most the freeze timeout,
 * then fail with a transient error the application may retry; transactions already in flight finish, and
 * {@link #awaitDrained} tells when none is left — only then does the router acknowledge the freeze, so the control
 * plane knows no write of this router can still reach the side being frozen.
 * <p>Hazard: a transaction counts as in flight from {@link #enter} to {@link #exit}; {@code enter} increments before
 * it reads {@code closed} and {@code close} sets it before {@link #awaitDrained} reads the count (both volatile), so
 * either the entering transaction sees the gate closed and backs out, or the closer waits for it.
 */
final class WriteGate {
    private static final int MAX_SAMPLES = 100_000;

    private final AtomicLong inFlight = new AtomicLong();
    private volatile boolean closed;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int waiting;
    private final List<Long> waitsMicros = new ArrayList<>();
    private long timeouts;

    /**
     * A write transaction begins: passes at once when open, else waits up to {@code timeoutMs}. Returns whether it
     * waited.
     *
     * @throws SQLTransientException when the gate stayed closed for the whole timeout (nothing was written)
     */
    boolean enter(long timeoutMs) throws SQLTransientException {
        inFlight.incrementAndGet();
        if (!closed) {
            return false;
        }
        exit();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            waiting++;
            try {
                while (true) {
                    inFlight.incrementAndGet();
                    if (!closed) {
                        break;
                    }
                    inFlight.decrementAndGet();
                    changed.signalAll();
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        timeouts++;
                        record(start);
                        throw new SQLTransientException("writes are frozen for a cutover or rollback: waited "
                                + timeoutMs + " ms at the write gate (freeze_timeout_ms); nothing was written, retry "
                                + "the transaction", "57014");
                    }
                    changed.awaitNanos(left);
                }
                record(start);
                return true;
            } finally {
                waiting--;
                changed.signalAll();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLTransientException("interrupted while waiting at the write gate", "57014", e);
        } finally {
            lock.unlock();
        }
    }

    private void record(long startNanos) {
        if (waitsMicros.size() < MAX_SAMPLES) {
            waitsMicros.add((System.nanoTime() - startNanos) / 1000);
        }
    }

    /** The write transaction that passed {@link #enter} ended (commit, rollback, close). */
    void exit() {
        if (inFlight.decrementAndGet() == 0 && closed) {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Freezes: new write transactions wait from now on. The waits recorded so far are forgotten. */
    void close() {
        lock.lock();
        try {
            if (!closed) {
                waitsMicros.clear();
                timeouts = 0;
            }
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    /** Unfreezes: the waiting transactions go on. */
    void open() {
        lock.lock();
        try {
            closed = false;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean closed() {
        return closed;
    }

    long inFlight() {
        return inFlight.get();
    }

    /** Waits until no write transaction is in flight (the gate closed); false when {@code timeoutMs} passed first. */
    boolean awaitDrained(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(5)));
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * After {@link #open}: waits (up to {@code timeoutMs}) until every transaction that waited has recorded its wait,
     * then returns the waits of the last freeze (microseconds) and the number that timed out.
     */
    Pause pause(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        lock.lock();
        try {
            while (waiting > 0 && deadline - System.nanoTime() > 0) {
                changed.awaitNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            return new Pause(waitsMicros.stream().mapToLong(Long::longValue).toArray(), timeouts);
        } finally {
            lock.unlock();
        }
    }

    /** The write pause of one freeze as this router saw it: each blocked transaction's wait, and the timeouts. */
    record Pause(long[] waitsMicros, long timeouts) {
    }
}
