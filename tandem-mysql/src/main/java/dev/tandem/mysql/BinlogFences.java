package dev.tandem.mysql;

import java.util.ArrayList;
import java.util.List;

/**
 * Fences of a binlog stream as positions: the binary log has no message a client may write into it (PostgreSQL's
 * {@code pg_logical_emit_message}), and writing a row for each fence would need write rights on the source. A fence
 * is the log's end when it was asked for ({@code SHOW MASTER STATUS}): once the stream passed that position at a
 * transaction end, everything committed before the fence has been delivered. Shared by the capture (which asks)
 * and its running stream (which passes positions); a fence at or before the last position passed is delivered at
 * once. Only the process running the stream can fence it this way: another process waits for the stored position
 * instead ({@code ChangeCapture#marksLog}).
 */
final class BinlogFences {
    /** What receives a fence's marker when it is passed. */
    interface Deliver {
        void marker(String marker) throws InterruptedException;
    }

    private record Pending(BinlogPosition at, String marker) {
    }

    private final List<Pending> pending = new ArrayList<>();
    private BinlogPosition passed;
    private Deliver deliver;

    /** The stream passed {@code at}, a transaction end: fences at or before it are delivered, in order. */
    synchronized void passed(BinlogPosition at, Deliver to) throws InterruptedException {
        passed = at;
        deliver = to;
        List<Pending> due = new ArrayList<>();
        pending.removeIf(p -> p.at.compareTo(at) <= 0 && due.add(p));
        for (Pending p : due) {
            to.marker(p.marker);
        }
    }

    /** A fence at {@code at}: delivered now when the stream is already past it, else when it gets there. */
    synchronized void add(BinlogPosition at, String marker) throws InterruptedException {
        if (passed != null && at.compareTo(passed) <= 0) {
            deliver.marker(marker);
        } else {
            pending.add(new Pending(at, marker));
        }
    }
}
