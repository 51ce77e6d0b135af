package dev.tandem.bench;

import static dev.tandem.bench.BackfillBench.say;
import static dev.tandem.bench.BackfillBench.seconds;
import static dev.tandem.bench.BackfillBench.server;

import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.verify.VerifyReport;
import dev.tandem.core.verify.VerifyRunner;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Issue 5's benchmark: {@code tandem verify} of a pgbench_accounts-like table that is equal on two PostgreSQL servers
 * (chunk planning, per-chunk count and hash sum on both sides at once, every chunk tracked in the control store),
 * and in the same run the limit: the same hash scan of the whole table as one query on each side, both sides at once
 * (the least work an in-database comparison can do). Prints rows/s of both and the ratio.
 */
final class VerifyBench {
    private static final String SCAN = "SELECT count(*), sum(hashtextextended(ROW(aid, bid, abalance, filler)::text, "
            + "0))::text FROM pgbench_accounts";
    private final long rows;
    private final int parallelism;

    VerifyBench(long rows, int parallelism) {
        this.rows = rows;
        this.parallelism = parallelism;
    }

    void run() throws Exception {
        say("Verify benchmark: %,d equal rows of pgbench_accounts (aid int PK, bid int, abalance int, filler char(84)) "
                + "on two servers, %d cores", rows, Runtime.getRuntime().availableProcessors());
        try (EmbeddedPostgres source = server(); EmbeddedPostgres target = server()) {
            long t0 = System.nanoTime();
            for (EmbeddedPostgres pg : new EmbeddedPostgres[] {source, target}) {
                pg.execute("CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, "
                                + "filler char(84))",
                        "INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, g % 1000, 'row ' || g "
                                + "FROM generate_series(1, " + rows + ") g",
                        "VACUUM ANALYZE pgbench_accounts");
            }
            say("both sides filled in %.1f s", seconds(t0));
            // The scan runs before and after Tandem, so neither gains from a warmer cache; its rate is the mean.
            double scanBefore = scan(source, target);
            double tandem = tandem(source, target);
            double scanAfter = scan(source, target);
            double scan = (scanBefore + scanAfter) / 2;
            say("");
            say("hash scan, both sides at once: %,12.0f rows/s  (%,.0f before, %,.0f after)", scan, scanBefore,
                    scanAfter);
            say("tandem verify               : %,12.0f rows/s", tandem);
            say("ratio                       : %.2f x the scan limit", tandem / scan);
        }
    }

    /** One whole-table hash scan on each side, at once; rows/s over the slower side. */
    private double scan(EmbeddedPostgres source, EmbeddedPostgres target) throws Exception {
        long t0 = System.nanoTime();
        CompletableFuture<String> s = CompletableFuture.supplyAsync(() -> single(source));
        CompletableFuture<String> t = CompletableFuture.supplyAsync(() -> single(target));
        String a = s.get();
        String b = t.get();
        double secs = seconds(t0);
        if (!a.equals(b)) {
            throw new IllegalStateException("the sides differ: " + a + " vs " + b);
        }
        say("hash scan: %s on both sides in %.1f s", a, secs);
        return rows / secs;
    }

    private double tandem(EmbeddedPostgres source, EmbeddedPostgres target) throws Exception {
        Path dir = Files.createTempDirectory("tandem-bench-");
        String yaml = String.join("\n", "id: bench-verify",
                "source: {url: '" + source.jdbcUrl() + "', user: postgres, password: ${env:PW_SRC}}",
                "target: {url: '" + target.jdbcUrl() + "', user: postgres, password: ${env:PW_DST}}",
                "scope: {tables: [public.pgbench_accounts]}",
                "data: {chunk_rows: " + Integer.getInteger("tandem.bench.chunk_rows", 100_000) + ", parallelism: "
                        + parallelism + "}",
                "cdc: {method: none}", "");
        Map<String, String> env = Map.of("PW_SRC", source.superuserPassword(), "PW_DST", target.superuserPassword());
        ManifestDocument doc = new ManifestReader(env::get).document(yaml, "bench", ManifestReader.Purpose.RUN);
        long t0 = System.nanoTime();
        VerifyReport report;
        double verifySeconds;
        try (ControlStore store = ControlStore.open(dir.resolve("store").toString(), env::get)) {
            say("  %6.2f s  control store open", seconds(t0));
            long v0 = System.nanoTime();
            report = new VerifyRunner(store, ConnectorRegistry.load(), line -> say("  %6.2f s  %s", seconds(t0), line))
                    .verify(doc.manifest(), new VerifyRunner.Options(null, false));
            verifySeconds = seconds(v0);
        }
        double total = seconds(t0);
        long processed = report.tables().stream().mapToLong(VerifyReport.TableReport::processed).sum();
        if (report.differing() != 0 || processed != rows) {
            throw new IllegalStateException("verify found " + report.differing() + " differing rows, processed "
                    + processed);
        }
        say("tandem verify: %,d rows equal in %.1f s (%.1f s in the verify itself: plan, chunks on both sides at once, "
                + "tracked in the store)", processed, total, verifySeconds);
        return rows / total;
    }

    private static String single(EmbeddedPostgres pg) {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(SCAN)) {
            rs.next();
            return rs.getString(1) + ":" + rs.getString(2);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
