package dev.tandem.bench;

import static dev.tandem.bench.BackfillBench.peakHeapMb;
import static dev.tandem.bench.BackfillBench.say;
import static dev.tandem.bench.BackfillBench.seconds;

import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationListener;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Issue 21's copy benchmark: a table of {@code rows} rows (bigint key, int, decimal, varchar, datetime, text) copied
 * MariaDB → PostgreSQL by Tandem ({@code schema: create}, chunked parallel copy, key and ANALYZE after, tracked in
 * the control store) and, in the same run from the same source, by pgloader (Debian's {@code pgloader}, the tool
 * MySQL → PostgreSQL users reach for, with its defaults) into a second PostgreSQL; and the raw read limit: one
 * streaming SELECT of the whole table, drained. Prints rows/s and the ratios; both copies are checked against the
 * source (count and key sum). Needs {@code pgloader} on the PATH ({@code apt-get install pgloader}); without it
 * prints Tandem's figures only and says so.
 */
final class MariaDbCopyBench {
    private final long rows;
    private final int parallelism;

    MariaDbCopyBench(long rows, int parallelism) {
        this.rows = rows;
        this.parallelism = parallelism;
    }

    void run() throws Exception {
        say("MariaDB -> PostgreSQL copy benchmark: %,d rows, %d cores, heap max %d MB", rows,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try (EmbeddedMariaDb source = EmbeddedMariaDb.builder().binlog(false)
                .setting("innodb-buffer-pool-size", "1G").start();
             EmbeddedPostgres forTandem = BackfillBench.server(); EmbeddedPostgres forPgloader = BackfillBench.server()) {
            long t0 = System.nanoTime();
            source.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount decimal(12,2), "
                    + "status varchar(20), created datetime(6), note text)",
                    "INSERT INTO orders SELECT seq, seq % 10007, (seq % 100000) / 100, ELT(1 + seq % 3, 'new', "
                            + "'paid', 'sent'), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, "
                            + "CONCAT('order note ', seq) FROM seq_1_to_" + rows,
                    "ANALYZE TABLE orders");
            say("source filled in %.1f s", seconds(t0));
            double raw = rawRead(source);
            double tandem = tandem(source, forTandem);
            double pgloader = pgloader(source, forPgloader);
            String expected;
            try (Connection c = source.connect()) {
                expected = single(c, "SELECT CONCAT(count(*), ':', sum(id)) FROM orders");
            }
            check("tandem", expected, forTandem);
            if (pgloader > 0) {
                check("pgloader", expected, forPgloader);
            }
            say("");
            say("raw read (one SELECT) : %,12.0f rows/s", raw);
            say("tandem migrate        : %,12.0f rows/s  (parallelism %d)  %.2f x the raw read", tandem, parallelism,
                    tandem / raw);
            if (pgloader > 0) {
                say("pgloader (defaults)   : %,12.0f rows/s", pgloader);
                say("tandem / pgloader     : %.2f x", tandem / pgloader);
            } else {
                say("pgloader              : not run (not on the PATH: apt-get install pgloader)");
            }
            say("peak heap             : %d MB", peakHeapMb());
        }
    }

    /** The source's own limit: every row of one streaming SELECT read as text, nothing written. */
    private double rawRead(EmbeddedMariaDb source) throws SQLException {
        long t0 = System.nanoTime();
        long n = 0;
        try (Connection c = source.connect(); Statement st = c.createStatement()) {
            st.setFetchSize(2_000);
            try (ResultSet rs = st.executeQuery("SELECT * FROM orders")) {
                while (rs.next()) {
                    for (int i = 1; i <= 6; i++) {
                        rs.getString(i);
                    }
                    n++;
                }
            }
        }
        double s = seconds(t0);
        say("raw read: %,d rows in %.1f s", n, s);
        return n / s;
    }

    private double tandem(EmbeddedMariaDb source, EmbeddedPostgres target) throws Exception {
        Path dir = Files.createTempDirectory("tandem-bench-");
        String yaml = String.join("\n", "id: bench-maria",
                "source: {url: '" + source.jdbcUrl() + "', user: root, password: ''}",
                "target: {url: '" + target.jdbcUrl() + "', user: postgres, password: ${env:PW_DST}}",
                "scope: {tables: [orders]}", "schema: create",
                "data: {type: scan, chunk_rows: 50000, parallelism: " + parallelism + "}",
                "cdc: {method: none}", "");
        Map<String, String> env = Map.of("PW_DST", target.superuserPassword());
        long t0 = System.nanoTime();
        MigrationOutcome outcome = migrate(yaml, env, dir);
        double total = seconds(t0);
        say("tandem: %s in %.1f s (prepare, plan, copy, key and ANALYZE)", outcome.status(), total);
        return rows / total;
    }

    /** {@code tandem migrate} of {@code yaml} in this JVM, its lines printed with the time; fails unless it completed. */
    static MigrationOutcome migrate(String yaml, Map<String, String> env, Path dir) throws Exception {
        ManifestDocument doc = new ManifestReader(env::get).document(yaml, "bench", ManifestReader.Purpose.RUN);
        long t0 = System.nanoTime();
        MigrationOutcome outcome;
        try (ControlStore store = ControlStore.open(dir.resolve("store").toString(), env::get)) {
            outcome = new MigrationRunner(store, ConnectorRegistry.load(),
                    MigrationListener.lines(line -> say("  %6.2f s  %s", seconds(t0), line)))
                    .migrate(doc, new RunOptions(null, null, null, "bench"));
        }
        if (outcome.exitCode() != 0) {
            throw new IllegalStateException("the migration failed: " + outcome.message());
        }
        return outcome;
    }

    /** pgloader with its defaults, from the same source database; 0 when pgloader is not installed. */
    private double pgloader(EmbeddedMariaDb source, EmbeddedPostgres target) throws Exception {
        if (!onPath("pgloader")) {
            return 0;
        }
        Path log = Files.createTempFile("pgloader-", ".log");
        ProcessBuilder pb = new ProcessBuilder("pgloader", "mysql://root@127.0.0.1:" + source.port() + "/"
                + source.database(), "postgresql://postgres:" + target.superuserPassword() + "@127.0.0.1:"
                + port(target) + "/bench").redirectErrorStream(true).redirectOutput(log.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.HOURS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("pgloader failed (exit " + (p.isAlive() ? "timeout" : p.exitValue())
                    + "):\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        double total = seconds(t0);
        say("pgloader: done in %.1f s (its summary follows)", total);
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (line.contains("orders") || line.contains("Total import time")) {
                say("  %s", line.trim());
            }
        }
        return rows / total;
    }

    private static int port(EmbeddedPostgres pg) {
        String url = pg.jdbcUrl();
        String hostPort = url.substring(url.indexOf("//") + 2, url.indexOf('/', url.indexOf("//") + 2));
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }

    /** Both copies hold the source's rows (count and key sum); pgloader puts them in a schema named like the db. */
    private static void check(String who, String expected, EmbeddedPostgres target) throws SQLException {
        try (Connection c = target.connect()) {
            String got = single(c, "SELECT count(*) || ':' || sum(id) FROM tandem.orders");
            if (!expected.equals(got)) {
                throw new IllegalStateException(who + "'s copy differs: source " + expected + ", copy " + got);
            }
        }
        say("%s's copy equals the source (count and key sum)", who);
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
