package dev.tandem.server.demo;

import dev.tandem.testkit.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The demo shop's live traffic on the source while it migrates: new orders with their lines, payments and
 * shipments, cancellations that delete lines, stock moves. About {@code rate} transactions a second on one
 * connection, until {@link #stop()}.
 */
public final class DemoWorkload implements Runnable {
    private final EmbeddedPostgres source;
    private final int scale;
    private final int rate;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();

    public DemoWorkload(EmbeddedPostgres source, int scale, int rate) {
        this.source = source;
        this.scale = scale;
        this.rate = rate;
    }

    @Override
    public void run() {
        Random r = new Random();
        long pause = Math.max(1, 1000L / rate);
        try (Connection c = source.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                long n = transactions.incrementAndGet();
                long order = 1 + r.nextInt(5_000 * scale);
                switch (r.nextInt(4)) {
                    case 0 -> {
                        long id = 10_000_000L + n;
                        st.execute("INSERT INTO orders (id, customer_id, status, total, placed_at) VALUES (" + id
                                + ", " + (1 + r.nextInt(1_000 * scale)) + ", 'new', 0, now())");
                        st.execute("INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price) "
                                + "SELECT " + id + ", 1, id, 2, price FROM products ORDER BY random() LIMIT 1");
                        st.execute("UPDATE orders SET total = (SELECT sum(quantity * unit_price) FROM order_items "
                                + "WHERE order_id = " + id + ") WHERE id = " + id);
                    }
                    case 1 -> st.execute("UPDATE orders SET status = CASE status WHEN 'new' THEN 'paid' "
                            + "ELSE 'shipped' END::order_status, updated_at = now() WHERE id = " + order);
                    case 2 -> {
                        st.execute("DELETE FROM order_items WHERE order_id = " + order + " AND line_no = 3");
                        st.execute("UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = " + order);
                    }
                    default -> st.execute("UPDATE inventory SET quantity = quantity + " + (r.nextInt(11) - 5)
                            + ", last_updated = now() WHERE sku = (SELECT sku FROM inventory ORDER BY random() LIMIT 1)");
                }
                c.commit();
                Thread.sleep(pause);
            }
        } catch (SQLException | InterruptedException e) {
            failure.set(e);
        }
    }

    public void stop() {
        stop.set(true);
    }

    public long transactions() {
        return transactions.get();
    }

    /** Why the workload ended early, or null. */
    public Exception failure() {
        return failure.get();
    }
}
