package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.testkit.CrossEngineComparison.As;
import dev.tandem.testkit.CrossEngineComparison.Col;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Binlog change capture, MariaDB 11.4 → PostgreSQL 17, through {@code tandem migrate}: a writer inserts, updates
 * (keys too) and deletes in multi-statement transactions from before the copy until after it, then a TRUNCATE;
 * the stream applies
 * what the copy did not see; a {@code tandem stop}, more writes while nothing streams, and a restart with
 * {@code stop_when: in_sync} pick up from the stored binlog position. Ends with every row compared by the test
 * itself ({@link CrossEngineRows}), with the least privileges binlog capture needs (SELECT, REPLICATION SLAVE,
 * BINLOG MONITOR: nothing is written to the source).
 */
class MariaDbBinlogCdcIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> SOURCE = DatabaseExtension.mariaDb();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres(EmbeddedPostgres.builder()
            .icuLocale(null));

    private static final String PW = "binlog-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Col> ORDER_COLUMNS = List.of(Col.same("id"), Col.same("customer"), Col.same("amount"),
            Col.same("status"), Col.same("note"), new Col("DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f')",
                    "to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US')", As.TEXT),
            new Col("CONCAT('{', flags, '}')", "flags::text", As.TEXT), Col.same("kind"),
            new Col("HEX(payload)", "upper(encode(payload, 'hex'))", As.TEXT), Col.same("big_u"),
            new Col("CAST(ROUND(UNIX_TIMESTAMP(ts) * 1000000) AS SIGNED)",
                    "round(extract(epoch FROM ts) * 1000000)::bigint", As.TEXT),
            new Col("TIME_TO_SEC(tm)", "extract(epoch FROM tm)::bigint", As.TEXT),
            new Col("CAST(ok AS SIGNED)", "ok::int", As.TEXT), new Col("d", "d", As.DOUBLE),
            new Col("f + 0E0", "f", As.FLOAT), new Col("doc", "doc::text", As.JSON),
            new Col("CAST(day AS CHAR)", "day::text", As.TEXT), new Col("CAST(yr AS SIGNED)", "yr", As.TEXT),
            new Col("LPAD(BIN(b5), 5, '0')", "b5::text", As.TEXT),
            new Col("CAST(TIME_TO_SEC(tf) * 1000000 AS SIGNED)", "(extract(epoch FROM tf) * 1000000)::bigint", As.TEXT),
            new Col("CAST(TIME_TO_SEC(t2) * 100 AS SIGNED)", "(extract(epoch FROM t2) * 100)::bigint", As.TEXT));
    private static final List<Col> TAG_COLUMNS = List.of(Col.same("code"), Col.same("n"));

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() throws Exception {
        SOURCE.server().execute(
                "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer int NOT NULL, "
                        + "amount decimal(12,2), status varchar(20) CHARACTER SET utf8mb4, note text, "
                        + "updated datetime(6), flags set('gift','rush','fragile'), kind enum('retail','b2b'), "
                        + "payload blob, big_u bigint unsigned, ts timestamp(6) NULL DEFAULT NULL, tm time, "
                        + "ok tinyint(1), d double, f float, doc json, day date, yr year, b5 bit(5), tf time(6), "
                        + "t2 time(2))",
                "CREATE TABLE tags (code varchar(40) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, n int)",
                "CREATE USER 'migrator'@'%' IDENTIFIED BY '" + PW + "'",
                "GRANT SELECT ON tandem.* TO 'migrator'@'%'",
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'migrator'@'%'");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
        try (Connection c = SOURCE.server().connect(); PreparedStatement o = c.prepareStatement(INSERT_ORDER);
             PreparedStatement t = c.prepareStatement("INSERT INTO tags VALUES (?, ?)")) {
            c.setAutoCommit(false);
            Random r = new Random(3);
            for (int i = 0; i < 8_000; i++) {
                order(o, r, i);
                o.addBatch();
                if (i % 500 == 0) {
                    o.executeBatch();
                }
            }
            o.executeBatch();
            for (int n = 1; n <= 2_000; n++) {
                t.setString(1, tag(n));
                t.setInt(2, n);
                t.addBatch();
            }
            t.executeBatch();
            c.commit();
        }
        SOURCE.server().execute("ANALYZE TABLE orders, tags");
    }

    private static final String INSERT_ORDER = "INSERT INTO orders (customer, amount, status, note, updated, flags, "
            + "kind, payload, big_u, ts, tm, ok, d, f, doc, day, yr, b5, tf, t2) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private static void order(PreparedStatement o, Random r, int i) throws Exception {
        boolean nulls = i % 41 == 3;
        Object[] v = {r.nextInt(1000), (r.nextInt(2_000_000) - 1_000_000) / 100.0, List.of("new", "paid", "sent",
                "ünïcødé 😀").get(i % 4), i % 3 == 0 ? "tab\tnew\nline \\ " + i : "note " + i,
                "2024-05-0" + (1 + i % 9) + " 10:11:12." + (100000 + i % 899999), List.of("", "gift", "gift,rush",
                "rush,fragile").get(i % 4), i % 2 == 0 ? "retail" : "b2b", bytes(r, r.nextInt(64)),
                i % 100 == 0 ? "18446744073709551615" : Long.toString(r.nextLong() >>> 1),
                "2025-01-0" + (1 + i % 9) + " 01:02:03.456789", i % 50 == 0 ? "-12:30:00" : i % 70 == 0 ? "300:00:00"
                : (i % 24) + ":05:06", i % 2, r.nextGaussian() * 1e9, r.nextFloat() * 1000,
                "{\"i\": " + i + ", \"a\": [1, \"x\"], \"o\": {\"k\": true}}", "2023-0" + (1 + i % 9) + "-1" + i % 10,
                1901 + i % 250, r.nextInt(32), List.of("-00:00:01.250000", "12:00:00.000001", "-838:59:59.999999",
                "101:02:03.4")
                .get(i % 4), List.of("-00:00:01.25", "-10:00:00.01", "00:00:00.99").get(i % 3)};
        for (int k = 0; k < v.length; k++) {
            o.setObject(k + 1, nulls && k > 0 ? null : v[k]);
        }
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** Keys whose case-insensitive order differs from PostgreSQL's C order: b-1, C-2, a-3, ... */
    private static String tag(int n) {
        String letters = "bCaZy_Dx";
        char c = letters.charAt(n % letters.length());
        return (n % 3 == 0 ? Character.toUpperCase(c) : c) + "-" + n;
    }

    /** Writes on the source until stopped: transactions of inserts, updates (a key too), deletes on both tables. */
    private static final class Writer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong ops = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Random r = new Random(11);
        private int nextTag = 100_000;

        @Override
        public void run() {
            try (Connection c = SOURCE.server().connect(); PreparedStatement ins = c.prepareStatement(INSERT_ORDER);
                 Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    int i = r.nextInt(100_000);
                    switch (r.nextInt(6)) {
                        case 0, 1 -> {
                            order(ins, r, i);
                            ins.executeUpdate();
                        }
                        case 2 -> st.executeUpdate("UPDATE orders SET status = 'upd" + i % 7 + "', "
                                + "amount = amount + 1, flags = 'fragile', tm = '-01:00:00', tf = '-00:00:00.000001', "
                                + "t2 = '-01:00:00.5', doc = '{\"u\": " + i + "}' WHERE id % 97 = " + i % 97
                                + " LIMIT 5");
                        case 3 -> st.executeUpdate("DELETE FROM orders WHERE id % 211 = " + i % 211 + " LIMIT 3");
                        case 4 -> st.executeUpdate("UPDATE tags SET code = CONCAT(code, '-r'), n = n + 1 "
                                + "WHERE n % 101 = " + i % 101 + " AND code NOT LIKE '%-r-r%' LIMIT 2");
                        default -> {
                            st.executeUpdate("INSERT INTO tags VALUES ('" + tag(nextTag++) + "', " + i + ")");
                            st.executeUpdate("DELETE FROM tags WHERE n % 307 = " + i % 307 + " LIMIT 1");
                        }
                    }
                    if (r.nextInt(3) == 0) {
                        c.commit();
                    }
                    ops.incrementAndGet();
                    Thread.sleep(2);
                }
                c.commit();
            } catch (Throwable t) {
                failure.set(t);
            }
        }
    }

    @Test
    void backfillAndBinlogStreamUnderAConcurrentWriterEndEqual() throws Exception {
        Path manifest = dir.resolve("binlog.yaml");
        Files.writeString(manifest, String.join("\n", "id: maria-binlog",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [orders, tags]}", "schema: create", "data: {chunk_rows: 1000, parallelism: 2}",
                "cdc: {method: binlog, heartbeat_interval: 1s}", "continuous: {enabled: true, stop_when: manual}",
                ""), StandardCharsets.UTF_8);
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();

        Writer writer = new Writer();
        Thread writing = new Thread(writer, "source-writer");
        writing.start();
        while (writer.ops.get() < 50 && writer.failure.get() == null) {
            Thread.sleep(20);
        }
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store()));
        StoreWait.catchUp(store(), ENV, "maria-binlog", migrate);
        Thread.sleep(3000); // the writer goes on after the backfill ended
        writer.stop.set(true);
        writing.join();
        assertThat(writer.failure.get()).isNull();
        assertThat(writer.ops.get()).isGreaterThan(300);

        // TRUNCATE is logged as a statement, not as rows: the stream must empty the target's table too
        SOURCE.server().execute("TRUNCATE TABLE tags", "INSERT INTO tags VALUES ('after-truncate', 1), ('B-2', 2)");

        CliRun lag = CliRun.of(ENV, "lag", "maria-binlog", "--json", "--store", store());
        assertThat(lag.exitCode()).as(lag.all()).isZero();
        JsonNode l = JSON.readTree(lag.out());
        assertThat(l.path("lag").path("seconds").isNumber()).as(l.toString()).isTrue();

        assertThat(l.path("cdc_position").path("mysql").path("position").asText()).matches("mysql-bin\\.\\d+:\\d+");
        CliRun stop = CliRun.of(ENV, "stop", "maria-binlog", "--store", store());
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun first = migrate.get(60, TimeUnit.SECONDS);
        assertThat(first.exitCode()).as(first.all()).isZero();
        // continuous verification (across engines, over every mapped type) ran under the writer and the TRUNCATE and
        // found nothing: no false drift, no failing comparison
        assertThat(first.all()).contains("Verifying continuously").doesNotContain("continuous verification: ");
        try (ControlStore cs = ControlStore.openReader(store(), Map.<String, String>of()::get)) {
            long run = StoreWait.continuousRun(cs, "maria-binlog");
            assertThat(cs.drift().list(run)).as("drift reported by continuous verification").isEmpty();
        }

        // more writes while nothing streams: the restarted stream reads them from the stored position
        SOURCE.server().execute("UPDATE orders SET status = 'late' WHERE id % 89 = 0",
                "DELETE FROM orders WHERE id % 53 = 0", "UPDATE tags SET n = -n WHERE n % 13 = 0");
        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun second = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(second.exitCode()).as(second.all()).isZero();
        assertThat(second.all()).contains("In sync at");

        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            s.createStatement().execute("SET time_zone = '+00:00'");
            CrossEngineRows.assertEqual(s, t, "orders", "id", "id", ORDER_COLUMNS);
            CrossEngineRows.assertEqual(s, t, "tags", "CAST(code AS BINARY)", "convert_to(code, 'UTF8')",
                    TAG_COLUMNS);
        }
    }

    /**
     * kill -9 of the migrating process (the runnable jar) while it streams under writes; the rerun resumes from the
     * stored position (a transaction's end: what the target had committed past it is applied again, idempotently)
     * and ends equal.
     */
    @Test
    void resumesTheStreamAfterKillDashNine() throws Exception {
        SOURCE.server().execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, note varchar(40))",
                "INSERT INTO accounts SELECT seq, 0, CONCAT('a', seq) FROM seq_1_to_5000");
        Path manifest = manifest("killed-stream", "accounts", "manual");
        String store = dir.resolve("killed-store").toString();
        MariaDbTransfers writer = new MariaDbTransfers(SOURCE.server(), "accounts", 5000, "7, 'new'");
        Path log = dir.resolve("killed.log");
        Process first = ChildMigrate.start(manifest, store, log, ENV);
        StoreWait.phase(first, log, store, "killed-stream", Phase.CATCH_UP, true);
        Thread.sleep(1500);
        first.destroyForcibly(); // SIGKILL: no shutdown hook
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(1000);
        writer.close();
        assertThat(writer.transfers.get()).isGreaterThan(100);

        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun rerun = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store);
        assertThat(rerun.exitCode()).as(rerun.all() + "\nkilled run:\n" + Files.readString(dir.resolve("killed.log")))
                .isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            CrossEngineRows.assertEqual(s, t, "accounts", "id", "id", List.of(Col.same("id"), Col.same("balance"),
                    Col.same("note")));
        }
    }

    /**
     * Continuous verification with a binlog source (rows read and hashed by Tandem on both sides, the rechecks fenced
     * by binlog positions): under a writer, drift made on the target behind the stream's back — a row the writer
     * leaves alone changed, one deleted, one forged, and a row a target trigger alters once as the stream applies it —
     * is found and repaired by itself (validation.repair), nothing else is reported (drift_rows: 0 would abort on
     * anything not repaired), and the tables end equal.
     */
    @Test
    void verifiesContinuouslyAndRepairsDriftFromABinlogSource() throws Exception {
        SOURCE.server().execute("CREATE TABLE cv_accounts (id int PRIMARY KEY, balance bigint NOT NULL, "
                + "note varchar(40))", "INSERT INTO cv_accounts SELECT seq, 0, CONCAT('a', seq) FROM seq_1_to_20000");
        String id = "binlog-verify";
        Path manifest = dir.resolve(id + ".yaml");
        Files.writeString(manifest, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [cv_accounts]}", "schema: create", "data: {chunk_rows: 4000, parallelism: 2}",
                "cdc: {method: binlog, heartbeat_interval: 1s}", "continuous: {enabled: true, stop_when: manual}",
                "validation: {continuous: true, repair: true, rows_per_second: 20000}",
                "abort_thresholds: {drift_rows: 0}", ""), StandardCharsets.UTF_8);
        String store = dir.resolve("verify-store").toString();
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store));
        StoreWait.catchUp(store, ENV, id, migrate);
        // the writer touches ids up to 18,000; 18,001..20,000 are left alone
        MariaDbTransfers writer = new MariaDbTransfers(SOURCE.server(), "cv_accounts", 15_000, "7, 'new'");
        try (ControlStore cs = ControlStore.openExisting(store, ENV::get)) {
            long run = StoreWait.continuousRun(cs, id);
            TARGET.server().execute("CREATE TABLE public.corrupt_once (x int)", "INSERT INTO public.corrupt_once VALUES (1)",
                    "CREATE FUNCTION corrupt() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 19999 AND "
                            + "EXISTS (SELECT 1 FROM public.corrupt_once) THEN DELETE FROM public.corrupt_once; "
                            + "NEW.balance := NEW.balance + 1; END IF; RETURN NEW; END $$",
                    "CREATE TRIGGER corrupt BEFORE INSERT OR UPDATE ON tandem.cv_accounts FOR EACH ROW EXECUTE FUNCTION "
                            + "corrupt()",
                    "ALTER TABLE tandem.cv_accounts ENABLE ALWAYS TRIGGER corrupt", // fires for the stream's writes too
                    "UPDATE tandem.cv_accounts SET balance = 99 WHERE id = 19000",
                    "DELETE FROM tandem.cv_accounts WHERE id = 19500",
                    "INSERT INTO tandem.cv_accounts VALUES (900000, 1, 'forged')");
            SOURCE.server().execute("UPDATE cv_accounts SET balance = 12345 WHERE id = 19999");
            long injected = System.nanoTime();
            assertThat(StoreWait.repairedDrift(cs, run, 4, migrate)).containsExactlyInAnyOrder("[\"19000\"] mismatch", "[\"19500\"] missing_on_target",
                    "[\"900000\"] extra_on_target", "[\"19999\"] mismatch");
            System.out.printf("binlog source: 4 drifting rows found and repaired %.2f s after they were made%n",
                    (System.nanoTime() - injected) / 1e9);
            Thread.sleep(2000); // the writer and the verification go on a while: still nothing else
            assertThat(cs.drift().list(run)).as("nothing else").hasSize(4);
        } finally {
            writer.close();
        }
        assertThat(writer.transfers.get()).isGreaterThan(100);
        CliRun stop = CliRun.of(ENV, "stop", id, "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun stopped = migrate.get(2, TimeUnit.MINUTES);
        assertThat(stopped.exitCode()).as(stopped.all()).isZero();
        assertThat(stopped.all()).contains("Verifying continuously");
        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun finish = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store);
        assertThat(finish.exitCode()).as(finish.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            CrossEngineRows.assertEqual(s, t, "cv_accounts", "id", "id", List.of(Col.same("id"), Col.same("balance"),
                    Col.same("note")));
        }
    }

    /**
     * The manifest's type choices ({@code schema.zero_dates: as_null}, {@code schema.columns}) hold alike for the
     * schema made, the copy, the binlog stream, plan's profile and Tandem's own comparison of the two sides: a
     * {@code tinyint(1)} holding 5 and -3 kept as a smallint, JSON kept as json (its text exactly), a char(4) as
     * character(4), a SET as the text[] its rule makes (a member with a space quoted), and every zero date — a zero month or day, and a zero TIMESTAMP, which the binlog client read as
     * 1970-01-01 — written as NULL by the copy and by the stream under a concurrent writer that writes them. Ends with
     * {@code tandem verify} (no drift) and the test's own row-by-row comparison.
     */
    @Test
    void theManifestsTypeChoicesHoldForTheCopyTheStreamAndVerification() throws Exception {
        SOURCE.server().execute("CREATE TABLE chosen (id int PRIMARY KEY, flag tinyint(1), d date NOT NULL, "
                + "dt datetime(3), ts timestamp NULL DEFAULT NULL, js json, c char(4), n int, tg set('two words','x'))");
        String insert = "INSERT INTO chosen VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (Connection c = SOURCE.server().connect(); PreparedStatement ps = c.prepareStatement(insert)) {
            c.createStatement().execute("SET SESSION sql_mode = '', time_zone = '+00:00'");
            for (int i = 0; i < 3_000; i++) {
                chosenRow(ps, i);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        String id = "maria-chosen";
        Path manifest = dir.resolve(id + ".yaml");
        Files.writeString(manifest, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [chosen]}",
                "schema:", "  mode: create", "  zero_dates: as_null", "  columns:",
                "    - {table: chosen, column: flag, type: smallint}",
                "    - {table: tandem.chosen, column: js, type: json}",
                "    - {table: chosen, column: c, type: char(4)}",
                "data: {chunk_rows: 500, parallelism: 2}", "cdc: {method: binlog, heartbeat_interval: 1s}",
                "continuous: {enabled: true, stop_when: manual}", ""), StandardCharsets.UTF_8);
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.all()).contains("flag tinyint(1) → smallint (chosen)", "js json → json (chosen)",
                "c char(4) → character(4) (chosen)", "column d holds 300 zero dates ('0000-00-00', or a zero month or "
                        + "day), copied and streamed as NULL (schema.zero_dates: as_null)",
                "column d is NOT NULL on the source but is made without NOT NULL");
        // a choice the rule does not offer, and a column that is not there: refused before anything is made
        Path wrong = dir.resolve(id + "-wrong.yaml");
        Files.writeString(wrong, Files.readString(manifest).replace("type: smallint", "type: text")
                .replace("column: c,", "column: cc,"));
        CliRun refused = CliRun.of(ENV, "plan", "-f", wrong.toString());
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(4);
        assertThat(refused.all()).contains("column flag is tinyint(1), and schema.columns chose text for it",
                "a tinyint(1) column may be made as boolean, smallint, integer, bigint, not text",
                "schema.columns[2]: 'chosen.cc' names no column of a table in scope");

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong ops = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writing = new Thread(() -> {
            Random r = new Random(5);
            try (Connection c = SOURCE.server().connect(); PreparedStatement ps = c.prepareStatement(insert);
                 Statement st = c.createStatement()) {
                st.execute("SET SESSION sql_mode = '', time_zone = '+00:00'");
                for (int i = 10_000; !stop.get(); i++) {
                    int k = r.nextInt(3_000);
                    switch (i % 5) {
                        case 0, 1 -> {
                            chosenRow(ps, i);
                            ps.executeUpdate();
                        }
                        case 2 -> st.executeUpdate("UPDATE chosen SET d = '0000-00-00', ts = '0000-00-00 00:00:00', "
                                + "flag = 7, js = '{\"u\":  " + i + "}', tg = 'x,two words' WHERE id = " + k);
                        case 3 -> st.executeUpdate("UPDATE chosen SET d = '2024-06-0" + (1 + i % 9) + "', dt = "
                                + "'2024-00-05 10:00:00', ts = '2024-06-01 10:00:00', flag = -1 WHERE id = " + k);
                        default -> st.executeUpdate("DELETE FROM chosen WHERE id = " + k);
                    }
                    ops.incrementAndGet();
                    Thread.sleep(3);
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "chosen-writer");
        writing.start();
        String store = dir.resolve("chosen-store").toString();
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store));
        StoreWait.catchUp(store, ENV, id, migrate);
        Thread.sleep(3000); // the writer goes on while the stream applies
        stop.set(true);
        writing.join();
        assertThat(failure.get()).isNull();
        assertThat(ops.get()).isGreaterThan(200);
        assertThat(CliRun.of(ENV, "stop", id, "--store", store).exitCode()).isZero();
        CliRun first = migrate.get(2, TimeUnit.MINUTES);
        assertThat(first.exitCode()).as(first.all()).isZero();
        assertThat(first.all()).contains("Verifying continuously").doesNotContain("continuous verification: ");
        try (ControlStore cs = ControlStore.openReader(store, Map.<String, String>of()::get)) {
            assertThat(cs.drift().list(StoreWait.continuousRun(cs, id))).as("drift seen by continuous verification")
                    .isEmpty();
        }
        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun finish = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store);
        assertThat(finish.exitCode()).as(finish.all()).isZero();
        CliRun verify = CliRun.of(ENV, "verify", "-f", manifest.toString(), "--store", store);
        assertThat(verify.exitCode()).as("Tandem's comparison through the same choices: " + verify.all()).isZero();

        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            s.createStatement().execute("SET time_zone = '+00:00'");
            String dNull = "IF(MONTH(d) = 0 OR DAYOFMONTH(d) = 0, NULL, d)";
            String dtNull = "IF(MONTH(dt) = 0 OR DAYOFMONTH(dt) = 0, NULL, dt)";
            String tsNull = "IF(MONTH(ts) = 0 OR DAYOFMONTH(ts) = 0, NULL, ts)";
            CrossEngineRows.assertEqual(s, t, "chosen", "id", "id", List.of(Col.same("id"),
                    new Col("CAST(flag AS SIGNED)", "flag", As.TEXT), new Col("CAST(" + dNull + " AS CHAR)",
                            "d::text", As.TEXT), new Col("DATE_FORMAT(" + dtNull + ", '%Y-%m-%d %H:%i:%s.%f')",
                            "to_char(dt, 'YYYY-MM-DD HH24:MI:SS.US')", As.TEXT),
                    new Col("CAST(UNIX_TIMESTAMP(" + tsNull + ") AS SIGNED)", "extract(epoch FROM ts)::bigint",
                            As.TEXT), new Col("js", "js::text", As.TEXT), new Col("c", "c::text", As.TEXT),
                    Col.same("n"), new Col("tg", "array_to_string(tg, ',')", As.TEXT)));
            assertThat(Long.parseLong(single(t, "SELECT count(*) FROM tandem.chosen WHERE d IS NULL")))
                    .as("zero dates arrived, as NULL").isGreaterThan(100);
            assertThat(Long.parseLong(single(t, "SELECT count(*) FROM tandem.chosen WHERE ts IS NULL AND flag = 7")))
                    .as("zero TIMESTAMPs the stream wrote, as NULL").isPositive();
            assertThat(Long.parseLong(single(t, "SELECT count(*) FROM tandem.chosen WHERE flag NOT IN (0, 1)")))
                    .as("tinyint(1) values a boolean could not hold").isGreaterThan(100);
            assertThat(single(t, "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN "
                    + "attnotnull THEN ' NOT NULL' ELSE '' END, ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid "
                    + "= 'tandem.chosen'::regclass AND attname IN ('flag', 'd', 'js', 'c', 'tg')"))
                    .as("made as chosen; d without NOT NULL; a SET as an array")
                    .isEqualTo("flag smallint, d date, js json, c character(4), tg text[]");
        }
    }

    /** Row {@code i} of {@code chosen}: every 10th with a zero date of some kind, flags a boolean cannot hold. */
    private static void chosenRow(PreparedStatement ps, int i) throws SQLException {
        ps.setInt(1, i);
        ps.setInt(2, List.of(0, 1, 5, -3, 1).get(i % 5));
        ps.setString(3, i % 10 == 0 ? List.of("0000-00-00", "2024-00-10", "2024-03-00").get(i / 10 % 3)
                : "2024-01-" + (10 + i % 19));
        ps.setString(4, i % 10 == 1 ? "0000-00-00 00:00:00" : "2023-05-06 07:08:09." + (100 + i % 900));
        ps.setString(5, i % 10 == 2 ? "0000-00-00 00:00:00" : i % 10 == 3 ? null : "2025-02-03 04:05:06");
        ps.setString(6, "{\"b\": " + i + ",  \"a\": [1, 2]}");
        ps.setString(7, "c" + i % 37);
        ps.setInt(8, i);
        ps.setString(9, List.of("", "x", "two words", "two words,x").get(i % 4));
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * The binary log purged past the stored position: the changes between are gone, so the restart stops with the
     * position, the oldest file the server still has, and the way out (a new run), instead of streaming on with a
     * hole.
     */
    @Test
    void aPurgedBinlogStopsTheRestartWithTheWayOut() throws Exception {
        SOURCE.server().execute("CREATE TABLE purged (id int PRIMARY KEY, v int)",
                "INSERT INTO purged SELECT seq, seq FROM seq_1_to_500");
        Path again = manifest("purged-again", "purged", "manual");
        String store2 = dir.resolve("purged-store").toString();
        CompletableFuture<CliRun> running = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", again.toString(), "--store", store2));
        StoreWait.catchUp(store2, ENV, "purged-again", running);
        CliRun stop = CliRun.of(ENV, "stop", "purged-again", "--store", store2);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        assertThat(running.get(60, TimeUnit.SECONDS).exitCode()).isZero();
        String stored;
        try (ControlStore cs = ControlStore.openReader(store2, Map.<String, String>of()::get)) {
            stored = cs.positions().find("purged-again", StreamDirection.FORWARD).orElseThrow().confirmed();
        }
        String storedFile = stored.substring(0, stored.lastIndexOf(':'));
        // the server keeps a file while a replica reads it or crash recovery may need it: purge until it is gone
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (binaryLogs().contains(storedFile)) {
            assertThat(System.nanoTime()).as("the server purged " + storedFile + " within 60 s; it has "
                    + binaryLogs()).isLessThan(deadline);
            SOURCE.server().execute("UPDATE purged SET v = v + 1", "FLUSH BINARY LOGS");
            List<String> logs = binaryLogs();
            SOURCE.server().execute("PURGE BINARY LOGS TO '" + logs.get(logs.size() - 1) + "'");
            Thread.sleep(500);
        }
        CompletableFuture<CliRun> resumed = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", again.toString(), "--store", store2));
        CliRun r;
        try {
            r = resumed.get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            CliRun.of(ENV, "stop", "purged-again", "--store", store2);
            throw new AssertionError("the restart streamed on past a purged position " + stored, e);
        }
        assertThat(r.exitCode()).as(r.all()).isNotZero();
        assertThat(r.all()).contains("its position " + stored + " is in a file the server no longer has",
                "Start again");
    }

    private static List<String> binaryLogs() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        try (Connection c = SOURCE.server().connect(); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private Path manifest(String id, String table, String stopWhen) throws Exception {
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [" + table + "]}", "schema: create", "data: {chunk_rows: 1000, parallelism: 2}",
                "cdc: {method: binlog, heartbeat_interval: 1s}", "continuous: {enabled: true, stop_when: " + stopWhen
                        + "}", ""), StandardCharsets.UTF_8);
        return file;
    }

    private String store() {
        return dir.resolve("store").toString();
    }
}
