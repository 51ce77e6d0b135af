package dev.tandem.bench;

import static dev.tandem.bench.BackfillBench.say;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.router.RoutingDataSource;
import dev.tandem.router.RoutingPolicy;
import dev.tandem.router.RoutingState;
import dev.tandem.testkit.EmbeddedPostgres;
import javax.sql.DataSource;

/**
 * Issue 7's router overhead: the same JDBC workload ({@link AppWorkload}) through the application's plain HikariCP
 * pool and through a {@link RoutingDataSource} over that same pool with the routing state "all to source", in the
 * same run on the same database. Two mixes: read-only point lookups (pgbench -S, where a fixed per-transaction cost
 * shows most) and pgbench -N write transactions ({@code tandem.bench.mix}: reads, writes, or both). Each mix runs a
 * warm-up of each, then eight rounds, plain and router alternating (ABBA BAAB, so drift in the machine falls on both
 * alike), and prints both rates and the loss.
 * The client, its pool and PostgreSQL share the machine's cores, so any CPU the router spends is throughput lost:
 * the worst case for it.
 */
final class RouterBench {
    private static final int ACCOUNTS = 100_000;

    private final int seconds;
    private final int threads;

    /** @param seconds of each measured round */
    RouterBench(int seconds, int threads) {
        this.seconds = seconds;
        this.threads = threads;
    }

    void run() throws Exception {
        say("Router overhead benchmark: %d threads, rounds of %d s, %d cores, heap max %d MB", threads, seconds,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().database("bench").start()) {
            pg.execute(AppWorkload.SCHEMA);
            pg.execute(AppWorkload.fill(ACCOUNTS));
            HikariConfig c = new HikariConfig();
            c.setJdbcUrl(pg.jdbcUrl());
            c.setUsername(EmbeddedPostgres.SUPERUSER);
            c.setPassword(pg.superuserPassword());
            c.setMaximumPoolSize(threads);
            c.setMinimumIdle(threads);
            RoutingPolicy allToSource = new RoutingPolicy(RoutingState.ALL_SOURCE, "bench", "bench");
            try (HikariDataSource pool = new HikariDataSource(c);
                 RoutingDataSource router = new RoutingDataSource(pool, pool, () -> allToSource)) {
                String mix = System.getProperty("tandem.bench.mix", "");
                double[] reads = mix.equals("writes") ? null
                        : compare("read-only lookups (pgbench -S)", pool, router, 0.0);
                double[] writes = mix.equals("reads") ? null
                        : compare("write transactions (pgbench -N)", pool, router, 1.0);
                say("");
                if (reads != null) {
                    say("read-only : plain pool %,9.0f tx/s, router %,9.0f tx/s: %.3f x (loss %.1f %%, goal < 3 %%)",
                            reads[0], reads[1], reads[1] / reads[0], 100 * (1 - reads[1] / reads[0]));
                }
                if (writes != null) {
                    say("writes    : plain pool %,9.0f tx/s, router %,9.0f tx/s: %.3f x (loss %.1f %%, goal < 3 %%)",
                            writes[0], writes[1], writes[1] / writes[0], 100 * (1 - writes[1] / writes[0]));
                }
                say("router counters: %s", router.stats().snapshot());
            }
        }
    }

    /** Transactions per second of {@code plain} and {@code router}, summed over alternating rounds. */
    private double[] compare(String mix, DataSource plain, DataSource router, double writeShare) throws Exception {
        say("%s: warm-up", mix);
        measure(plain, writeShare, Math.max(3, seconds / 2));
        measure(router, writeShare, Math.max(3, seconds / 2));
        long plainTx = 0;
        long routerTx = 0;
        DataSource[] order = {plain, router, router, plain, router, plain, plain, router};
        for (DataSource ds : order) {
            long n = measure(ds, writeShare, seconds);
            say("  %-6s %,9.0f tx/s", ds == plain ? "plain" : "router", n / (double) seconds);
            if (ds == plain) {
                plainTx += n;
            } else {
                routerTx += n;
            }
        }
        double rounds = order.length / 2.0 * seconds;
        return new double[] {plainTx / rounds, routerTx / rounds};
    }

    /** Transactions finished in {@code secs} of the workload on {@code ds}. */
    private long measure(DataSource ds, double writeShare, int secs) throws Exception {
        AppWorkload w = new AppWorkload(ds, threads, ACCOUNTS, writeShare, 0).start();
        Thread.sleep(200); // threads started, connections taken
        long before = w.reads.get() + w.writes.get();
        Thread.sleep(secs * 1000L);
        long n = w.reads.get() + w.writes.get() - before;
        w.stop();
        return n;
    }
}
