package dev.tandem.bench;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.router.TandemContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * An application's transactions in pgbench's shape on {@code pgbench_accounts} / {@code pgbench_history}, on
 * several threads through one {@link DataSource} (the plain pool or the router over it), each transaction taking a
 * connection and giving it back as a web request would:
 * <ul>
 *   <li>read — a read-only connection, {@code SELECT abalance ... WHERE aid = ?} (pgbench -S);</li>
 *   <li>write — {@code UPDATE pgbench_accounts SET abalance = abalance + delta}, {@code INSERT INTO pgbench_history
 *       (aid, delta)}, commit (pgbench -N): sum(abalance) = sum(delta) holds on any side that lost nothing.</li>
 * </ul>
 * With a rate, transactions start on a shared schedule (open loop: a transaction that waited at a frozen gate does
 * not delay the schedule, the ones behind it start late and catch up), else as fast as the threads go. Write latency
 * goes into a histogram (0.1 ms buckets up to 10 s).
 */
final class AppWorkload {
    private static final int BUCKETS = 100_000; // 0.1 ms each

    private final DataSource ds;
    private final int accounts;
    private final double writeShare;
    private final long intervalNanos;
    private final AtomicLong nextStart = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    final AtomicLong freezeTimeouts = new AtomicLong();
    private final AtomicLongArray writeLatency = new AtomicLongArray(BUCKETS + 1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /** @param rate transactions per second over all threads; 0 for as fast as they go */
    AppWorkload(DataSource ds, int threads, int accounts, double writeShare, int rate) {
        this.ds = ds;
        this.accounts = accounts;
        this.writeShare = writeShare;
        this.intervalNanos = rate > 0 ? 1_000_000_000L / rate : 0;
        for (int i = 0; i < threads; i++) {
            SplittableRandom r = new SplittableRandom(i);
            Thread t = new Thread(() -> loop(r), "app-" + i);
            t.setDaemon(true);
            this.threads.add(t);
        }
    }

    AppWorkload start() {
        nextStart.set(System.nanoTime());
        threads.forEach(Thread::start);
        return this;
    }

    private void loop(SplittableRandom r) {
        while (!stop.get() && failure.get() == null) {
            if (intervalNanos > 0) {
                long now = System.nanoTime();
                long slot = nextStart.getAndAdd(intervalNanos);
                if (slot < now - 1_000_000_000L) {
                    nextStart.compareAndSet(slot + intervalNanos, now); // more than 1 s behind: no catch-up burst
                } else if (slot > now) {
                    LockSupport.parkNanos(slot - now);
                }
            }
            int aid = 1 + r.nextInt(accounts);
            boolean write = r.nextDouble() < writeShare;
            int delta = r.nextInt(-5000, 5001);
            try {
                new TandemContext("user-" + aid, null, null).run(() -> {
                    try {
                        if (write) {
                            long t0 = System.nanoTime();
                            write(aid, delta);
                            int bucket = (int) Math.min(BUCKETS, (System.nanoTime() - t0) / 100_000);
                            writeLatency.incrementAndGet(bucket);
                            writes.incrementAndGet();
                        } else {
                            read(aid);
                            reads.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
            } catch (IllegalStateException e) {
                if (e.getCause() instanceof SQLTransientException t
                        && SqlErrors.classify(t) == SqlErrors.Kind.CANCELED) {
                    freezeTimeouts.incrementAndGet();
                } else {
                    failure.compareAndSet(null, e.getCause() != null ? e.getCause() : e);
                }
            }
        }
    }

    private void read(int aid) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            try (PreparedStatement ps = c.prepareStatement("SELECT abalance FROM pgbench_accounts WHERE aid = ?")) {
                ps.setInt(1, aid);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new SQLException("account " + aid + " is missing");
                    }
                }
            }
        }
    }

    private void write(int aid, int delta) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement up = c.prepareStatement("UPDATE pgbench_accounts SET abalance = abalance + ? "
                    + "WHERE aid = ?");
                 PreparedStatement in = c.prepareStatement("INSERT INTO pgbench_history (aid, delta, mtime) "
                         + "VALUES (?, ?, now())")) {
                up.setInt(1, delta);
                up.setInt(2, aid);
                up.executeUpdate();
                in.setInt(1, aid);
                in.setInt(2, delta);
                in.executeUpdate();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Why a transaction failed (other than by the freeze timeout), or null. */
    Throwable failure() {
        return failure.get();
    }

    /** Forgets the write latencies recorded so far. */
    void resetLatency() {
        for (int i = 0; i <= BUCKETS; i++) {
            writeLatency.set(i, 0);
        }
    }

    /** The write latency at percentile {@code p} (0-100) since the last reset, in ms; 10,000 means "10 s or more". */
    double writeLatencyMs(double p) {
        long[] counts = new long[BUCKETS + 1]; // a snapshot: writes go on while this counts
        long total = 0;
        for (int i = 0; i <= BUCKETS; i++) {
            counts[i] = writeLatency.get(i);
            total += counts[i];
        }
        long rank = (long) Math.ceil(total * p / 100.0);
        long seen = 0;
        for (int i = 0; i <= BUCKETS; i++) {
            seen += counts[i];
            if (seen >= Math.max(1, rank)) {
                return (i + 1) / 10.0;
            }
        }
        return 0;
    }

    /** Stops and waits for the threads; throws what a transaction failed with. */
    void stop() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a transaction failed: " + failure.get(), failure.get());
        }
    }

    static final String SCHEMA = """
            CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL,
                                           filler char(84));
            CREATE TABLE pgbench_history (hid bigserial PRIMARY KEY, aid int NOT NULL, delta int NOT NULL,
                                          mtime timestamptz NOT NULL)""";

    /** Statements that fill pgbench_accounts with {@code accounts} rows. */
    static String[] fill(int accounts) {
        return new String[] {"INSERT INTO pgbench_accounts SELECT g, 1, 0, '' FROM generate_series(1, " + accounts
                + ") g", "VACUUM ANALYZE pgbench_accounts"};
    }
}
