package dev.tandem.bench;

import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationListener;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.EmbeddedPostgres;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

/**
 * Issue 3's benchmark: copy a pgbench_accounts-like table PostgreSQL to PostgreSQL with Tandem (schema creation,
 * chunk planning, parallel chunk copies, primary key and ANALYZE after the data, every step tracked in the control
 * store), and in the same run, on the same databases, the raw limit: one pgjdbc COPY pipe (copyOut → copyIn, binary,
 * one stream) into a bare table, then the primary key and ANALYZE. Prints rows/s of both and the ratio.
 */
final class BackfillBench {
    private final long rows;
    private final int parallelism;

    BackfillBench(long rows, int parallelism) {
        this.rows = rows;
        this.parallelism = parallelism;
    }

    void run() throws Exception {
        say("Backfill benchmark: %,d rows of pgbench_accounts (aid int PK, bid int, abalance int, filler char(84)), "
                + "%d cores, heap max %d MB", rows, Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20);
        try (EmbeddedPostgres source = server(); EmbeddedPostgres target = server()) {
            long t0 = System.nanoTime();
            source.execute("CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
                    "INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, "
                            + rows + ") g",
                    "VACUUM ANALYZE pgbench_accounts");
            say("source filled in %.1f s", seconds(t0));

            // The raw pipe runs before and after Tandem, so neither side gains from a warmer cache or a later
            // checkpoint; its rate is the mean of the two.
            double rawBefore = rawPipe(source, target, "raw_before");
            double tandem = tandem(source, target);
            double rawAfter = rawPipe(source, target, "raw_after");
            double raw = (rawBefore + rawAfter) / 2;
            check(source, target, "raw_before");
            check(source, target, "raw_after");
            say("");
            say("raw COPY pipe : %,12.0f rows/s  (%,.0f before, %,.0f after)", raw, rawBefore, rawAfter);
            say("tandem migrate: %,12.0f rows/s  (parallelism %d)", tandem, parallelism);
            say("ratio         : %.2f x the raw pipe", tandem / raw);
            say("peak heap     : %d MB", peakHeapMb());
        }
    }

    /** A PostgreSQL tuned for bulk work (large WAL, buffers); shared by the benchmarks. */
    static EmbeddedPostgres server() {
        return EmbeddedPostgres.builder().database("bench").setting("max_wal_size", "8GB")
                .setting("shared_buffers", "512MB").setting("checkpoint_timeout", "30min").start();
    }

    /** copyOut → copyIn in one thread, row by row as pgjdbc hands them over, then the key and ANALYZE. */
    private double rawPipe(EmbeddedPostgres source, EmbeddedPostgres target, String table) throws SQLException {
        target.execute("CREATE TABLE " + table + " (aid int, bid int, abalance int, filler char(84))");
        long t0 = System.nanoTime();
        long copied;
        try (Connection s = source.connect(); Connection t = target.connect()) {
            CopyOut out = s.unwrap(PGConnection.class).getCopyAPI()
                    .copyOut("COPY pgbench_accounts TO STDOUT (FORMAT binary)");
            CopyIn in = t.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + table + " FROM STDIN (FORMAT binary)");
            byte[] row;
            while ((row = out.readFromCopy()) != null) {
                in.writeToCopy(row, 0, row.length);
            }
            copied = in.endCopy();
        }
        double copySeconds = seconds(t0);
        target.execute("ALTER TABLE " + table + " ADD PRIMARY KEY (aid)", "ANALYZE " + table);
        double total = seconds(t0);
        say("raw pipe: %,d rows copied in %.1f s, key and ANALYZE after: %.1f s total", copied, copySeconds, total);
        return rows / total;
    }

    private double tandem(EmbeddedPostgres source, EmbeddedPostgres target) throws Exception {
        Path dir = Files.createTempDirectory("tandem-bench-");
        String yaml = String.join("\n", "id: bench",
                "source: {url: '" + source.jdbcUrl() + "', user: postgres, password: ${env:PW_SRC}}",
                "target: {url: '" + target.jdbcUrl() + "', user: postgres, password: ${env:PW_DST}}",
                "scope: {tables: [public.pgbench_accounts]}",
                "schema: create",
                "data: {type: scan, chunk_rows: 50000, parallelism: " + parallelism + "}",
                "cdc: {method: none}", "");
        Map<String, String> env = Map.of("PW_SRC", source.superuserPassword(), "PW_DST", target.superuserPassword());
        ManifestDocument doc = new ManifestReader(env::get).document(yaml, "bench", ManifestReader.Purpose.RUN);
        long t0 = System.nanoTime();
        MigrationOutcome outcome;
        try (ControlStore store = ControlStore.open(dir.resolve("store").toString(), env::get)) {
            say("  %6.2f s  control store open", seconds(t0));
            outcome = new MigrationRunner(store, ConnectorRegistry.load(),
                    MigrationListener.lines(line -> say("  %6.2f s  %s", seconds(t0), line)))
                    .migrate(doc, new RunOptions(null, null, null, "bench"));
        }
        double total = seconds(t0);
        if (outcome.exitCode() != 0) {
            throw new IllegalStateException("the migration failed: " + outcome.message());
        }
        say("tandem: %s in %.1f s (prepare, plan, copy, key and ANALYZE, tracked in the store)",
                outcome.status(), total);
        return rows / total;
    }

    /** Both copies hold exactly the source's rows. */
    private void check(EmbeddedPostgres source, EmbeddedPostgres target, String rawTable) throws SQLException {
        String q = "SELECT count(*) || ':' || sum(aid) || ':' || sum(hashtext(aid || '/' || bid || '/' || abalance "
                + "|| '/' || filler)) FROM ";
        String expected = single(source, q + "pgbench_accounts");
        String raw = single(target, q + rawTable);
        String tandem = single(target, q + "pgbench_accounts");
        if (!expected.equals(raw) || !expected.equals(tandem)) {
            throw new IllegalStateException("copies differ: source " + expected + ", raw " + raw + ", tandem " + tandem);
        }
        say("%s and Tandem's copy equal the source (count, key sum, row hash sum)", rawTable);
    }

    private static String single(EmbeddedPostgres pg, String sql) throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static long peakHeapMb() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return peak >> 20;
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
    }
}
