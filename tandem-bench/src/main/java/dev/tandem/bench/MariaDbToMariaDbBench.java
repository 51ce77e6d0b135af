package dev.tandem.bench;

import static dev.tandem.bench.BackfillBench.peakHeapMb;
import static dev.tandem.bench.BackfillBench.say;
import static dev.tandem.bench.BackfillBench.seconds;

import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.testkit.EmbeddedMariaDb;
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
 * Issue 21's MariaDB → MariaDB copy benchmark, one source table of {@code rows} rows (bigint key, int, decimal,
 * varchar, datetime, text) copied in the same run onto the same target server, emptied between runs, by: Tandem
 * loading with {@code LOAD DATA LOCAL} (the default), Tandem loading with multi-row INSERT (the target's
 * {@code local_infile} off), and {@code mariadb-dump --single-transaction --quick | mariadb} (the server's own tools,
 * shipped with the embedded server). Prints rows/s and the ratios; each copy is checked with {@code CHECKSUM TABLE} on
 * both servers (the server's checksum, not Tandem's).
 */
final class MariaDbToMariaDbBench {
    private final long rows;
    private final int parallelism;

    MariaDbToMariaDbBench(long rows, int parallelism) {
        this.rows = rows;
        this.parallelism = parallelism;
    }

    void run() throws Exception {
        say("MariaDB -> MariaDB copy benchmark: %,d rows, %d cores, heap max %d MB", rows,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try (EmbeddedMariaDb source = EmbeddedMariaDb.builder().binlog(false)
                .setting("innodb-buffer-pool-size", "1G").start();
             EmbeddedMariaDb target = EmbeddedMariaDb.builder().binlog(false).serverId(2)
                     .setting("innodb-buffer-pool-size", "1G").start()) {
            long t0 = System.nanoTime();
            source.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount decimal(12,2), "
                    + "status varchar(20), created datetime(6), note text, KEY by_customer (customer))",
                    "INSERT INTO orders SELECT seq, seq % 10007, (seq % 100000) / 100, ELT(1 + seq % 3, 'new', "
                            + "'paid', 'sent'), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, "
                            + "CONCAT('order note ', seq) FROM seq_1_to_" + rows,
                    "ANALYZE TABLE orders");
            say("source filled in %.1f s", seconds(t0));
            String expected = checksum(source);
            double load = tandem(source, target, true, expected);
            double insert = tandem(source, target, false, expected);
            double dump = dump(source, target, expected);
            say("");
            say("tandem, LOAD DATA LOCAL     : %,12.0f rows/s  (parallelism %d)", load, parallelism);
            say("tandem, multi-row INSERT    : %,12.0f rows/s  (%.2f x LOAD DATA)", insert, insert / load);
            say("mariadb-dump | mariadb      : %,12.0f rows/s", dump);
            say("tandem (LOAD DATA) / dump   : %.2f x", load / dump);
            say("peak heap                   : %d MB", peakHeapMb());
        }
    }

    private double tandem(EmbeddedMariaDb source, EmbeddedMariaDb target, boolean loadData, String expected)
            throws Exception {
        empty(target);
        target.execute("SET GLOBAL local_infile = " + (loadData ? 1 : 0));
        Path dir = Files.createTempDirectory("tandem-bench-");
        String id = loadData ? "bench-load" : "bench-insert";
        String yaml = String.join("\n", "id: " + id,
                "source: {url: '" + source.jdbcUrl() + "', user: root, password: ''}",
                "target: {url: '" + target.jdbcUrl() + "', user: root, password: ''}",
                "scope: {tables: [orders]}", "schema: create",
                "data: {type: scan, chunk_rows: 50000, parallelism: " + parallelism + "}",
                "cdc: {method: none}", "");
        long t0 = System.nanoTime();
        MigrationOutcome outcome = MariaDbCopyBench.migrate(yaml, Map.of(), dir);
        double total = seconds(t0);
        say("tandem (%s): %s in %.1f s", loadData ? "LOAD DATA" : "INSERT", outcome.status(), total);
        check(loadData ? "tandem (LOAD DATA)" : "tandem (INSERT)", expected, target);
        return rows / total;
    }

    /** {@code mariadb-dump | mariadb}: the table's definition and rows, as the server's own tools move them. */
    private double dump(EmbeddedMariaDb source, EmbeddedMariaDb target, String expected) throws Exception {
        empty(target);
        Path bin = source.binDir();
        Path log = Files.createTempFile("mariadb-dump-", ".log");
        String pipe = "set -o pipefail; '" + bin.resolve("mariadb-dump") + "' --no-defaults -h127.0.0.1 -P"
                + source.port() + " -uroot --single-transaction --quick " + source.database() + " orders | '"
                + bin.resolve("mariadb") + "' --no-defaults -h127.0.0.1 -P" + target.port() + " -uroot "
                + target.database();
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("bash", "-c", pipe).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        if (!p.waitFor(2, TimeUnit.HOURS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("mariadb-dump | mariadb failed (exit " + (p.isAlive() ? "timeout"
                    : p.exitValue()) + "):\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        double total = seconds(t0);
        say("mariadb-dump | mariadb: done in %.1f s", total);
        check("mariadb-dump", expected, target);
        return rows / total;
    }

    private static void empty(EmbeddedMariaDb target) {
        target.execute("DROP TABLE IF EXISTS orders");
    }

    private static void check(String who, String expected, EmbeddedMariaDb target) throws SQLException {
        String got = checksum(target);
        if (!expected.equals(got)) {
            throw new IllegalStateException(who + "'s copy differs: source " + expected + ", copy " + got);
        }
        say("%s's copy equals the source (CHECKSUM TABLE %s)", who, got);
    }

    private static String checksum(EmbeddedMariaDb db) throws SQLException {
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("CHECKSUM TABLE orders")) {
            rs.next();
            return rs.getString(2);
        }
    }
}
