package dev.tandem.server;

import dev.tandem.router.TandemContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/**
 * The application of the router tests: N threads of mixed transactions through one DataSource (usually a
 * tandem-router), pausable. Tables {@code accounts (id, balance, updated_at)} with ids 1..accounts and
 * {@code events (id generated, account_id, amount)}: a write adds 1 to a balance and inserts an event of 1, so
 * sum(balance) - initial = count(events) holds on any side that lost no transaction. Plain SQL that PostgreSQL and
 * MySQL/MariaDB both run. Only a freeze timeout may fail a transaction; anything else stops the workload.
 */
final class RoutedWorkload {
    final DataSource ds;
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicBoolean paused = new AtomicBoolean();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong freezeTimeouts = new AtomicLong();
    final AtomicLong idle = new AtomicLong();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    final List<Thread> threads = new ArrayList<>();
    private final int accounts;

    RoutedWorkload(DataSource ds, int n, int accounts) {
        this.ds = ds;
        this.accounts = accounts;
        for (int i = 0; i < n; i++) {
            long seed = i;
            Thread t = new Thread(() -> run(new Random(seed)), "app-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    RoutedWorkload start() {
        threads.forEach(Thread::start);
        return this;
    }

    private void run(Random r) {
        while (!stop.get() && failure.get() == null) {
            if (paused.get()) {
                idle.incrementAndGet();
                sleep(5);
                continue;
            }
            sleep(3); // an application's think time: a few hundred transactions per second in all
            long account = 1 + r.nextInt(accounts);
            TandemContext ctx = new TandemContext("user-" + account, null, null);
            try {
                ctx.run(() -> {
                    try {
                        if (r.nextInt(10) < 6) {
                            read(account);
                        } else {
                            write(account);
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
            } catch (IllegalStateException e) {
                if (e.getCause() instanceof SQLTransientException t && t.getMessage().contains("frozen")) {
                    freezeTimeouts.incrementAndGet();
                } else {
                    failure.compareAndSet(null, e.getCause() != null ? e.getCause() : e);
                }
            }
        }
    }

    private void read(long account) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            try (PreparedStatement ps = c.prepareStatement("SELECT balance FROM accounts WHERE id = ?")) {
                ps.setLong(1, account);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("account " + account + " is missing");
                    }
                }
            }
        }
        reads.incrementAndGet();
    }

    private void write(long account) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement up = c.prepareStatement("UPDATE accounts SET balance = balance + 1, "
                    + "updated_at = now() WHERE id = ?");
                 PreparedStatement ev = c.prepareStatement("INSERT INTO events (account_id, amount) "
                         + "VALUES (?, 1)")) {
                up.setLong(1, account);
                if (up.executeUpdate() != 1) {
                    throw new SQLException("account " + account + " not updated");
                }
                ev.setLong(1, account);
                ev.executeUpdate();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
        writes.incrementAndGet();
    }

    /** Stops new transactions and waits until the running ones ended. */
    void pause() {
        paused.set(true);
        long seen = idle.get();
        while (idle.get() < seen + threads.size() * 2L) {
            if (failure.get() != null) {
                throw new AssertionError("the workload failed", failure.get());
            }
            sleep(5);
        }
    }

    void resume() {
        paused.set(false);
    }

    Throwable stopAndJoin() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
        }
        return failure.get();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
