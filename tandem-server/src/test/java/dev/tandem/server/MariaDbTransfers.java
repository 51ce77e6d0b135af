package dev.tandem.server;

import dev.tandem.testkit.EmbeddedMariaDb;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A writer on a MariaDB table shaped {@code (id int PRIMARY KEY, balance bigint, ...)} until stopped: each
 * transaction takes 7 from one account and gives it to another, which it creates when missing, and now and then
 * deletes one; ids above the initial rows come and go. For kill-and-resume tests of the binlog stream.
 */
final class MariaDbTransfers implements AutoCloseable {
    final AtomicLong transfers = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failed = new AtomicReference<>();
    private final Thread thread;

    /**
     * @param table   the table
     * @param rows    the initial accounts 1..rows; new ones get ids up to 1.2 × rows
     * @param newRow  the values after id of a row the writer creates, e.g. {@code 7, 'new'}
     */
    MariaDbTransfers(EmbeddedMariaDb db, String table, int rows, String newRow) {
        int top = rows + rows / 5;
        this.thread = new Thread(() -> {
            Random r = new Random(5);
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    st.executeUpdate("UPDATE " + table + " SET balance = balance - 7 WHERE id = "
                            + (1 + r.nextInt(rows)));
                    st.executeUpdate("INSERT INTO " + table + " VALUES (" + (1 + r.nextInt(top)) + ", " + newRow + ") "
                            + "ON DUPLICATE KEY UPDATE balance = balance + 7");
                    if (r.nextInt(10) == 0) {
                        st.executeUpdate("DELETE FROM " + table + " WHERE id = " + (1 + r.nextInt(top)));
                    }
                    c.commit();
                    transfers.incrementAndGet();
                    Thread.sleep(1);
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "transfers");
        thread.start();
    }

    /** Stops the writer; throws what stopped it early, if anything. */
    @Override
    public void close() throws Exception {
        stop.set(true);
        thread.join();
        if (failed.get() != null) {
            throw new AssertionError("the writer failed", failed.get());
        }
    }
}
