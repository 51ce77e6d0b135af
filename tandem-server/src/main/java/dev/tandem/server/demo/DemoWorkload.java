package dev.tandem.server.demo;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.router.TandemContext;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/**
 * The demo shop's live traffic while it migrates, as its application would send it: through a {@link DataSource}
 * (the routing DataSource of tandem-router), one connection per transaction, each under the customer's
 * {@link TandemContext}. Half the transactions are read-only lookups of an order (canary reads go where the
 * strategy says); the others write: new orders with their lines, payments and shipments, cancellations that delete
 * lines, stock moves. About {@code rate} transactions a second over {@value #THREADS} threads, until {@link #stop()}.
 * A write that waited at a frozen gate longer than the freeze timeout is counted, not a failure: nothing was written.
 * <p>New orders take ids from 10,000,000 up and are only written by the transaction that creates them; updates and
 * cancellations touch the orders the shop started with. So the new orders a side holds can be compared with the
 * other side's while traffic goes on.
 */
public final class DemoWorkload {
    /** First id of the orders the workload creates. */
    public static final long NEW_ORDERS = 10_000_000L;
    private static final int THREADS = 4;

    private final DataSource app;
    private final int scale;
    private final int rate;
    private final String statusCast;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong newOrders = new AtomicLong();
    private final AtomicLong freezeTimeouts = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    /**
     * @param statusCast the cast an order's new status is written with ({@code ::order_status} for PostgreSQL's enum
     *                   type; none where the column is text or a MySQL ENUM, which take the text as it is)
     */
    public DemoWorkload(DataSource app, int scale, int rate, String statusCast) {
        this.app = app;
        this.scale = scale;
        this.rate = rate;
        this.statusCast = statusCast;
    }

    /** Starts the traffic's threads. */
    public DemoWorkload start() {
        for (int i = 0; i < THREADS; i++) {
            Thread t = new Thread(this::run, "demo-traffic-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        return this;
    }

    private void run() {
        Random r = new Random();
        long pause = Math.max(1, 1000L * THREADS / rate);
        try {
            while (!stop.get() && failure.get() == null) {
                transactions.incrementAndGet();
                long customer = 1 + r.nextInt(1_000 * scale);
                try {
                    new TandemContext("customer-" + customer, null, null).run(() -> {
                        try {
                            if (r.nextBoolean()) {
                                lookUp(1 + r.nextInt(5_000 * scale));
                            } else {
                                write(r, customer);
                            }
                        } catch (SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                } catch (IllegalStateException e) {
                    if (e.getCause() instanceof SQLTransientException t
                            && SqlErrors.classify(t) == SqlErrors.Kind.CANCELED) {
                        freezeTimeouts.incrementAndGet();
                    } else if (e.getCause() instanceof SQLException s) {
                        throw s;
                    } else {
                        throw e;
                    }
                }
                Thread.sleep(pause);
            }
        } catch (SQLException | RuntimeException e) {
            failure.compareAndSet(null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void lookUp(long order) throws SQLException {
        try (Connection c = app.getConnection()) {
            c.setReadOnly(true);
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT status, total FROM orders WHERE id = " + order)) {
                rs.next();
            }
        }
        reads.incrementAndGet();
    }

    private void write(Random r, long customer) throws SQLException {
        long order = 1 + r.nextInt(5_000 * scale);
        try (Connection c = app.getConnection()) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                switch (r.nextInt(4)) {
                    case 0 -> {
                        long id = NEW_ORDERS + newOrders.incrementAndGet();
                        st.execute("INSERT INTO orders (id, customer_id, status, total, placed_at, updated_at) "
                                + "VALUES (" + id + ", " + customer + ", 'new', 0, now(), now())");
                        st.execute("INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price) "
                                + "SELECT " + id + ", 1, id, 2, price FROM products WHERE sku = '" + sku(r) + "'");
                        st.execute("UPDATE orders SET total = (SELECT sum(quantity * unit_price) FROM order_items "
                                + "WHERE order_id = " + id + ") WHERE id = " + id);
                    }
                    case 1 -> st.execute("UPDATE orders SET status = CASE status WHEN 'new' THEN 'paid' "
                            + "ELSE 'shipped' END" + statusCast + ", updated_at = now() WHERE id = " + order);
                    case 2 -> {
                        st.execute("DELETE FROM order_items WHERE order_id = " + order + " AND line_no = 3");
                        st.execute("UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = " + order);
                    }
                    default -> st.execute("UPDATE inventory SET quantity = quantity + " + (r.nextInt(11) - 5)
                            + ", last_updated = now() WHERE sku = '" + sku(r) + "'");
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        writes.incrementAndGet();
    }

    /**
     * A product's SKU, chosen here: SQL both engines run (MariaDB cannot update a table it selects from in a
     * subquery, and orders randomly by RAND(), not random()).
     */
    private String sku(Random r) {
        return String.format(java.util.Locale.ROOT, "SKU-%05d", 1 + r.nextInt(500 * scale));
    }

    /** Stops the traffic and waits for the transactions in flight. */
    public void stop() {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    public long transactions() {
        return transactions.get();
    }

    public long reads() {
        return reads.get();
    }

    public long writes() {
        return writes.get();
    }

    public long freezeTimeouts() {
        return freezeTimeouts.get();
    }

    /** Why the workload ended early, or null. */
    public Exception failure() {
        return failure.get();
    }
}
