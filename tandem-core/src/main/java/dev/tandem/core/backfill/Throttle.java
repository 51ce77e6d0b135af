package dev.tandem.core.backfill;

import java.util.concurrent.TimeUnit;

/**
 * A rows-per-second limit shared by every worker of a run, changeable while they work. Each caller reserves time
 * for the rows it is about to pass and sleeps until its turn; 0 means unlimited. Up to one second of unused
 * allowance carries over, so short pauses do not slow the average.
 */
public final class Throttle {
    private long rowsPerSecond;
    private long nextFreeNanos = System.nanoTime();

    public Throttle(long rowsPerSecond) {
        this.rowsPerSecond = rowsPerSecond;
    }

    public synchronized void setRate(long rowsPerSecond) {
        this.rowsPerSecond = Math.max(0, rowsPerSecond);
    }

    public synchronized long rate() {
        return rowsPerSecond;
    }

    /** Waits until {@code rows} more rows may pass. */
    public void acquire(long rows) throws InterruptedException {
        long waitNanos;
        synchronized (this) {
            if (rowsPerSecond <= 0 || rows <= 0) {
                return;
            }
            long now = System.nanoTime();
            long start = Math.max(nextFreeNanos, now - TimeUnit.SECONDS.toNanos(1));
            nextFreeNanos = start + rows * TimeUnit.SECONDS.toNanos(1) / rowsPerSecond;
            waitNanos = start - now;
        }
        if (waitNanos > 0) {
            TimeUnit.NANOSECONDS.sleep(waitNanos);
        }
    }
}
