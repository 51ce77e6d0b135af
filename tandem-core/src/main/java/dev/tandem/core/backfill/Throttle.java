package dev.tandem.core.backfill;

/**
 * A rows-per-second limit shared by every worker of a run, changeable while they work: a token bucket that fills at
 * the rate and holds at most one second of it. A caller takes tokens for the rows it passes, waiting in short naps
 * that re-read the rate, so a change (or lifting the limit with 0) takes effect within a tenth of a second even
 * for a caller in the middle of a large block.
 */
public final class Throttle {
    private static final long NAP_MILLIS = 100;

    private long rowsPerSecond;
    private double tokens;
    private long lastNanos = System.nanoTime();

    public Throttle(long rowsPerSecond) {
        this.rowsPerSecond = Math.max(0, rowsPerSecond);
    }

    public synchronized void setRate(long rowsPerSecond) {
        refill();
        this.rowsPerSecond = Math.max(0, rowsPerSecond);
        notifyAll();
    }

    public synchronized long rate() {
        return rowsPerSecond;
    }

    /** Waits until {@code rows} more rows may pass (at once when there is no limit). */
    public synchronized void acquire(long rows) throws InterruptedException {
        long owed = rows;
        while (owed > 0) {
            if (rowsPerSecond <= 0) {
                return;
            }
            refill();
            long take = (long) Math.min(owed, Math.floor(tokens));
            tokens -= take;
            owed -= take;
            if (owed > 0) {
                wait(NAP_MILLIS);
            }
        }
    }

    private void refill() {
        long now = System.nanoTime();
        if (rowsPerSecond > 0) {
            tokens = Math.min(rowsPerSecond, tokens + (now - lastNanos) / 1e9 * rowsPerSecond);
        }
        lastNanos = now;
    }
}
