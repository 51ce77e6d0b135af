package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem migrate} from a real MariaDB 11.4 into a real PostgreSQL with {@code schema: create}: the tables made
 * through the type mapping, the rows copied in key-range chunks, and then every row compared column by column by this
 * test alone (each engine asked for the value in a form both print alike; floats, doubles and JSON compared as
 * values), not by Tandem's checksums. Covers every mapped MySQL type with its extremes (unsigned maxima, zero and
 * negative keys, 4-byte UTF-8, tabs, newlines and backslashes, a blob of several MB, TIME beyond 24 h and negative,
 * NULL in every column), a varchar key under a case-insensitive collation and a composite key, an AUTO_INCREMENT
 * table whose identity continues past the source's counter, and the indexes and foreign key made after the data. Zero
 * dates are counted by plan (and migrate's preflight) and refused, naming the column and the UPDATE that fixes them,
 * before anything is made on the target.
 */
class MariaDbToPostgresIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> SOURCE = DatabaseExtension.mariaDb();
    /** In the C locale: text orders by bytes ('B' before 'a'), as unlike MariaDB's case-insensitive order as can be. */
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres(EmbeddedPostgres.builder()
            .icuLocale(null));

    private static final String PW = "maria-pg-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 6_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() throws Exception {
        SOURCE.server().execute(
                "CREATE TABLE everything (id bigint PRIMARY KEY, flag tinyint(1), tiny tinyint, "
                        + "tiny_u tinyint unsigned, small_u smallint unsigned, med mediumint, int_u int unsigned, "
                        + "big_u bigint unsigned, "
                        + "dec_v decimal(20,6), f float, d double, b1 bit(1), b12 bit(12), ch char(10), "
                        + "vc varchar(100) CHARACTER SET utf8mb4, tx text, bl mediumblob, js json, dt date, "
                        + "dtm datetime(6), ts timestamp(3) NULL DEFAULT NULL, tm time, yr year, "
                        + "en enum('small','medium','large'), st set('x','y','z'), "
                        + "note varchar(20) NOT NULL DEFAULT 'none', made datetime DEFAULT CURRENT_TIMESTAMP, "
                        + "KEY by_dt (dt), UNIQUE KEY by_vc_id (vc, id))",
                "CREATE TABLE codes (code varchar(40) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, n int)",
                "CREATE TABLE order_lines (region char(2) NOT NULL, n int NOT NULL, code varchar(40) COLLATE utf8mb4_general_ci, "
                        + "PRIMARY KEY (region, n), CONSTRAINT order_lines_code FOREIGN KEY (code) REFERENCES codes (code) ON DELETE SET NULL)",
                "CREATE TABLE counters (id int AUTO_INCREMENT PRIMARY KEY, v varchar(10))",
                "CREATE TABLE zeros (id int PRIMARY KEY, day date)",
                "CREATE TABLE unfit (id int PRIMARY KEY, flag tinyint(1), born date, lat text CHARACTER SET latin1, "
                        + "u varchar(20) CHARACTER SET utf8mb4)",
                "CREATE USER 'migrator'@'%' IDENTIFIED BY '" + PW + "'",
                "GRANT SELECT ON tandem.* TO 'migrator'@'%'");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
        Random r = new Random(7);
        try (Connection s = SOURCE.server().connect()) {
            s.createStatement().execute("SET time_zone = '+00:00', sql_mode = ''");
            s.setAutoCommit(false);
            try (PreparedStatement ps = s.prepareStatement("INSERT INTO everything (id, flag, tiny, tiny_u, small_u, "
                    + "med, int_u, big_u, dec_v, f, d, b1, b12, ch, vc, tx, bl, js, dt, dtm, ts, tm, yr, en, st) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < ROWS; i++) {
                    long id = i - 100; // negative keys, zero, positive
                    boolean nulls = i % 97 == 5;
                    boolean extreme = i % 500 == 0;
                    Object[] v = {id, r.nextBoolean() ? 1 : 0, extreme ? -128 : r.nextInt(200) - 100,
                            extreme ? 255 : r.nextInt(256), extreme ? 65535 : r.nextInt(65536),
                            extreme ? -8388608 : r.nextInt(1_000_000), extreme ? 4294967295L : r.nextInt(1 << 30),
                            extreme ? "18446744073709551615" : Long.toString(r.nextLong() >>> 1),
                            extreme ? "99999999999999.999999" : (r.nextInt(2_000_000) - 1_000_000) + "." + r.nextInt(
                                    1_000_000),
                            r.nextFloat() * 1e6f - 5e5f, extreme ? 1.7976931348623157e308 : r.nextGaussian() * 1e12,
                            r.nextBoolean(), r.nextInt(4096),
                            "c" + (i % 977), text(r, i), "long text " + i + " ".repeat(i % 7) + "\\ end",
                            i % 1500 == 7 ? bytes(r, 3 << 20) : bytes(r, r.nextInt(300)),
                            "{\"n\": " + i + ", \"tags\": [\"a\", \"" + i % 13 + "\"], \"z\": {\"k\": null}}",
                            String.format("2024-02-%02d", 1 + i % 28),
                            "2023-12-31 23:59:" + (10 + i % 50) + "." + (100000 + i),
                            "2025-0" + (1 + i % 9) + "-15 08:30:00.123", extreme ? "838:59:59" : i % 11 == 0
                            ? "-12:34:56" : (i % 24) + ":15:00", 1901 + i % 254, List.of("small", "medium", "large")
                            .get(i % 3), List.of("", "x", "x,z", "x,y,z").get(i % 4)};
                    for (int k = 0; k < v.length; k++) {
                        ps.setObject(k + 1, nulls && k > 0 ? null : v[k]);
                    }
                    ps.addBatch();
                    if (i % 200 == 0) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            try (PreparedStatement codes = s.prepareStatement("INSERT INTO codes VALUES (?, ?)");
                 PreparedStatement lines = s.prepareStatement("INSERT INTO order_lines VALUES (?, ?, ?)")) {
                for (int n = 1; n <= 3_000; n++) {
                    codes.setString(1, code(n));
                    codes.setInt(2, n);
                    codes.addBatch();
                    lines.setString(1, List.of("eu", "us", "ap").get(n % 3));
                    lines.setInt(2, n);
                    lines.setString(3, n % 10 == 0 ? null : code(n));
                    lines.addBatch();
                }
                codes.executeBatch();
                lines.executeBatch();
            }
            try (Statement st = s.createStatement()) {
                for (int n = 1; n <= 1_200; n++) {
                    st.addBatch("INSERT INTO counters (v) VALUES ('v" + n + "')");
                }
                st.executeBatch();
                // the counter runs ahead of the largest key: the target's identity must continue past it
                st.execute("DELETE FROM counters WHERE id > 1000");
                st.execute("INSERT INTO zeros VALUES (1, '2024-01-01'), (2, '0000-00-00'), (3, NULL)");
                st.execute("INSERT INTO unfit VALUES (1, 1, '2024-01-01', 'fine', 'fine'), (2, 5, '0000-03-04', "
                        + "CONCAT('a', CHAR(0), 'b'), 'ok'), (3, -1, '0000-00-00', 'x', CONCAT('ü', CHAR(0))), "
                        + "(4, 0, NULL, NULL, NULL)");
            }
            s.commit();
        }
        SOURCE.server().execute("ANALYZE TABLE everything, codes, order_lines, counters");
    }

    /** Keys whose case-insensitive order (MariaDB's collation) differs from PostgreSQL's: b-1, C-2, a-3, ... */
    private static String code(int n) {
        String letters = "bCaZy_Dx";
        char c = letters.charAt(n % letters.length());
        return (n % 3 == 0 ? Character.toUpperCase(c) : c) + "-" + n;
    }

    private static String text(Random r, int i) {
        return switch (i % 5) {
            case 0 -> "plain " + i;
            case 1 -> "tab\there, newline\nthere, cr\rand a backslash \\ " + i;
            case 2 -> "4-byte 😀 𝄞 and ü é " + i;
            case 3 -> "'quotes' \"double\" \\N not null " + i;
            default -> Long.toString(r.nextLong(), 36);
        };
    }

    private static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    @Test
    void createsTheTablesAndCopiesEveryTypeExactly() throws Exception {
        Path manifest = manifest("maria-to-pg", "scope: {tables: [everything, codes, order_lines, counters]}");
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("column flag: tinyint(1) becomes boolean")
                .contains("column tm: time becomes interval");

        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store(), "--json");
        assertThat(run.exitCode()).as(run.all()).isZero();
        JsonNode summary = JSON.readTree(run.out());
        assertThat(summary.path("state").asText()).isEqualTo("completed");
        long chunks = 0;
        for (JsonNode t : summary.get("tables")) {
            assertThat(t.get("chunks").fieldNames()).toIterable().containsExactly("PASS");
            chunks += t.get("chunks").get("PASS").asLong();
        }
        assertThat(chunks).as("tables split into many chunks").isGreaterThan(20);

        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            s.createStatement().execute("SET time_zone = '+00:00'");
            List<Col> cols = List.of(Col.same("id"), new Col("CAST(flag AS SIGNED)", "flag::int", As.TEXT),
                    Col.same("tiny"), Col.same("tiny_u"), Col.same("small_u"), Col.same("med"), Col.same("int_u"),
                    Col.same("big_u"), Col.same("dec_v"), new Col("f + 0E0", "f", As.FLOAT),
                    new Col("d", "d", As.DOUBLE), new Col("CAST(b1 AS UNSIGNED)", "b1::int", As.TEXT),
                    new Col("LPAD(BIN(b12), 12, '0')", "b12::text", As.TEXT), Col.same("ch"), Col.same("vc"),
                    Col.same("tx"), new Col("HEX(bl)", "upper(encode(bl, 'hex'))", As.TEXT),
                    new Col("js", "js::text", As.JSON), new Col("CAST(dt AS CHAR)", "dt::text", As.TEXT),
                    new Col("DATE_FORMAT(dtm, '%Y-%m-%d %H:%i:%s.%f')",
                            "to_char(dtm, 'YYYY-MM-DD HH24:MI:SS.US')", As.TEXT),
                    new Col("CAST(ROUND(UNIX_TIMESTAMP(ts) * 1000) AS SIGNED)",
                            "round(extract(epoch FROM ts) * 1000)::bigint", As.TEXT),
                    new Col("TIME_TO_SEC(tm)", "extract(epoch FROM tm)::bigint", As.TEXT),
                    new Col("CAST(yr AS SIGNED)", "yr", As.TEXT), Col.same("en"), new Col("CONCAT('{', st, '}')", "st::text", As.TEXT), Col.same("note"),
                    new Col("DATE_FORMAT(made, '%Y-%m-%d %H:%i:%s')", "to_char(made, 'YYYY-MM-DD HH24:MI:SS')",
                            As.TEXT));
            CrossEngineRows.assertEqual(s, t, "everything", "id", "id", cols, ROWS);
            CrossEngineRows.assertEqual(s, t, "codes", "CAST(code AS BINARY)", "convert_to(code, 'UTF8')",
                    List.of(Col.same("code"), Col.same("n")), 3_000);
            CrossEngineRows.assertEqual(s, t, "order_lines", "CAST(region AS BINARY), n", "convert_to(region, 'UTF8'), n",
                    List.of(Col.same("region"), Col.same("n"), Col.same("code")), 3_000);
            CrossEngineRows.assertEqual(s, t, "counters", "id", "id", List.of(Col.same("id"), Col.same("v")), 1_000);

            // The comparison itself sees a one-byte difference deep in the blob.
            execute(t, "UPDATE tandem.everything SET bl = set_byte(bl, 2000000, (get_byte(bl, 2000000) + 1) % 256) "
                    + "WHERE id = " + (7 - 100));
            assertThat(CrossEngineRows.differing(s, t, "everything", "id", "id", cols)).isEqualTo(1);

            // Made through the mapping, with what the data needed after it.
            assertThat(single(t, "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position) "
                    + "FROM information_schema.columns WHERE table_schema = 'tandem' AND table_name = 'everything' "
                    + "AND column_name IN ('flag', 'big_u', 'tm', 'js', 'ts', 'st')")).isEqualTo("flag boolean, "
                    + "big_u numeric, js jsonb, ts timestamp with time zone, tm interval, st ARRAY");
            assertThat(single(t, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                    + "'tandem.everything'::regclass AND contype = 'c'")).as("the enum's members kept")
                    .contains("'small'::text", "'medium'::text", "'large'::text", "''::text");
            assertThat(single(t, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'tandem' "
                    + "AND indexname IN ('everything_by_dt', 'everything_by_vc_id')")).isEqualTo("2");
            assertThat(single(t, "SELECT count(*) FROM pg_constraint WHERE conname = 'order_lines_code' "
                    + "AND contype = 'f' AND convalidated AND confdeltype = 'n'")).isEqualTo("1");
            assertThat(single(t, "SELECT column_default FROM information_schema.columns WHERE table_schema = "
                    + "'tandem' AND table_name = 'everything' AND column_name = 'note'")).startsWith("'none'");
            execute(t, "INSERT INTO tandem.counters (v) VALUES ('new')");
            assertThat(Long.parseLong(single(t, "SELECT max(id) FROM tandem.counters")))
                    .as("the identity continues past the source's AUTO_INCREMENT (1201), not the largest key")
                    .isEqualTo(1201);
        }
    }

    /**
     * What PostgreSQL cannot take — zero dates, a date in year 0, a tinyint(1) holding 5 made as a boolean, NUL in
     * text of either character set — is counted by plan from the rows and refused by plan and migrate alike before
     * anything is made; the manifest's choices turn the zero dates into NULL and keep the flag's numbers.
     */
    @Test
    void valuesPostgresCannotTakeAreCountedByPlanAndRefusedBeforeAnythingIsCopied() throws Exception {
        Path manifest = manifest("zero-dates", "scope: {tables: [zeros, unfit]}");
        List<String> findings = List.of("column day holds 1 zero date ('0000-00-00', or a zero month or day), which "
                        + "PostgreSQL has no value for",
                "UPDATE `tandem`.`zeros` SET `day` = NULL WHERE MONTH(`day`) = 0 OR DAYOFMONTH(`day`) = 0;",
                "column born holds 1 date in year 0, which PostgreSQL has no value for",
                "column born holds 1 zero date", "column flag holds 2 values other than 0 and 1, which the boolean it "
                        + "maps to cannot hold", "{table: tandem.unfit, column: flag, type: smallint}",
                "column lat holds 1 value with a NUL character, which PostgreSQL text cannot hold",
                "column u holds 1 value with a NUL character");
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isEqualTo(4);
        assertThat(plan.all()).contains(findings);
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(run.exitCode()).as(run.all()).isEqualTo(4);
        assertThat(run.all()).contains(findings.get(0), findings.get(2), findings.get(4), findings.get(6));
        try (Connection t = TARGET.server().connect()) {
            assertThat(single(t, "SELECT to_regclass('tandem.zeros')")).as("nothing created").isNull();
        }
        Files.writeString(manifest, Files.readString(manifest).replace("schema: create", "schema: {mode: create, "
                + "zero_dates: as_null, columns: [{table: unfit, column: flag, type: smallint}]}"));
        CliRun chosen = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(chosen.exitCode()).as(chosen.all()).isEqualTo(4);
        assertThat(chosen.all()).contains("column day holds 1 zero date ('0000-00-00', or a zero month or day), "
                + "copied and streamed as NULL (schema.zero_dates: as_null)", findings.get(2), findings.get(6))
                .doesNotContain("values other than 0 and 1");
    }

    /**
     * With {@code schema: existing} the target's columns are held against the type the mapping makes — or the one
     * {@code schema.columns} chose: a smallint made for a tinyint(1) and a text for a SET are refused until chosen,
     * then loaded as the source holds them.
     */
    @Test
    void anExistingTargetIsHeldAgainstTheChosenType() throws Exception {
        SOURCE.server().execute("CREATE TABLE picked (id int PRIMARY KEY, flag tinyint(1), st set('a','b c'))",
                "INSERT INTO picked VALUES (1, 5, 'a,b c'), (2, -1, ''), (3, NULL, NULL)");
        TARGET.server().execute("CREATE SCHEMA IF NOT EXISTS tandem",
                "CREATE TABLE tandem.picked (id int PRIMARY KEY, flag smallint, st text)");
        Path manifest = manifest("picked", "scope: {tables: [picked]}");
        Files.writeString(manifest, Files.readString(manifest).replace("schema: create", "schema: existing"));
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isNotZero();
        assertThat(plan.all()).contains("column flag is tinyint(1) on the source (boolean in PostgreSQL) but smallint",
                "column st is set('a','b c') on the source (text[] in PostgreSQL) but text");
        Files.writeString(manifest, Files.readString(manifest).replace("schema: existing", "schema: {mode: existing, "
                + "columns: [{table: picked, column: flag, type: smallint}, {table: picked, column: st, type: text}]}"));
        CliRun chosen = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(chosen.exitCode()).as(chosen.all()).isZero();
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", dir.resolve("picked-store")
                .toString());
        assertThat(run.exitCode()).as(run.all()).isZero();
        try (Connection t = TARGET.server().connect()) {
            assertThat(single(t, "SELECT string_agg(id || ':' || coalesce(flag::text, '-') || ':' || coalesce(st, '-'), "
                    + "' ' ORDER BY id) FROM tandem.picked")).isEqualTo("1:5:a,b c 2:-1: 3:-:-");
        }
    }

    /**
     * kill -9 of the migrating process (the runnable jar) during the copy of a table keyed by text under MariaDB's
     * case-insensitive collation; a rerun with --prev-run copies the rest (chunks redone are replaced row by row, as
     * their key ranges mean other rows in PostgreSQL's order) and the tables end equal.
     */
    @Test
    void resumesAfterKillDashNineDuringTheCopy() throws Exception {
        SOURCE.server().execute("CREATE TABLE names (name varchar(40) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, "
                + "n int, pad varchar(200))");
        try (Connection s = SOURCE.server().connect(); PreparedStatement ps = s.prepareStatement(
                "INSERT INTO names VALUES (?, ?, ?)")) {
            for (int n = 1; n <= 40_000; n++) {
                ps.setString(1, code(n) + (n % 2 == 0 ? "-Ab" : "-aB"));
                ps.setInt(2, n);
                ps.setString(3, "pad ".repeat(n % 50));
                ps.addBatch();
            }
            ps.executeBatch();
        }
        SOURCE.server().execute("ANALYZE TABLE names");
        Path manifest = dir.resolve("killed.yaml");
        Files.writeString(manifest, Files.readString(manifest("killed", "scope: {tables: [names]}"))
                .replace("chunk_rows: 500, parallelism: 2", "chunk_rows: 2000, parallelism: 2, rows_per_second: 8000"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", Path.of("target", "tandem.jar").toAbsolutePath()
                .toString(), "migrate", "-f", manifest.toString(), "--store", store())
                .redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile());
        pb.environment().put("PW", PW);
        Process first = pb.start();
        long runId = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (runId < 0 && System.nanoTime() < deadline) {
            assertThat(first.isAlive()).as(Files.readString(dir.resolve("first.log"))).isTrue();
            if (Files.exists(Path.of(store(), "store.mv.db"))) {
                try (ControlStore cs = ControlStore.openReader(store(), Map.<String, String>of()::get)) {
                    List<RunRecord> runs = cs.migrations().find("killed").isPresent() ? cs.runs().list("killed")
                            : List.of();
                    if (!runs.isEmpty() && cs.runs().chunks(runs.get(0).runId(), ChunkStatus.PASS).size() >= 3) {
                        runId = runs.get(0).runId();
                    }
                } catch (TandemException notYet) {
                    // the child is still making the store
                }
            }
            Thread.sleep(100);
        }
        assertThat(runId).as("three chunks passed before the kill").isPositive();
        first.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        try (Connection t = TARGET.server().connect()) {
            assertThat(Long.parseLong(single(t, "SELECT count(*) FROM tandem.names"))).as("the kill landed mid-copy")
                    .isLessThan(40_000);
        }

        CliRun rerun = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store(), "--prev-run",
                String.valueOf(runId));
        assertThat(rerun.exitCode()).as(rerun.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            CrossEngineRows.assertEqual(s, t, "names", "CAST(name AS BINARY)", "convert_to(name, 'UTF8')",
                    List.of(Col.same("name"), Col.same("n"), Col.same("pad")), 40_000);
        }
    }

    private Path manifest(String id, String scope) throws Exception {
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                scope, "schema: create", "data: {type: scan, chunk_rows: 500, parallelism: 2}", "cdc: {method: none}",
                ""), StandardCharsets.UTF_8);
        return file;
    }

    private String store() {
        return dir.resolve("store").toString();
    }

    /**
     * Cutover and rollback MariaDB → PostgreSQL through the router with the workload running throughout: identities
     * set past MariaDB's AUTO_INCREMENT at the cutover, the reverse stream from PostgreSQL's logical replication into
     * MariaDB (values turned back from PostgreSQL's text: timestamps, numbers), AUTO_INCREMENT set past the
     * identities at the rollback. Events take their ids from whichever side takes the write, so a counter left
     * behind would collide. Ends with the invariant sum(balance) - initial = count(events) on both sides and every
     * event the target took found on the source, compared by the test.
     */
    @Test
    void cutsOverAndRollsBackThroughTheRouterUnderWrites() throws Exception {
        int accounts = 4_000;
        SOURCE.server().execute(RoutedCutover.mariaDbTables(accounts));
        SOURCE.server().execute(
                "GRANT INSERT, UPDATE, DELETE ON tandem.* TO 'migrator'@'%'",
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'migrator'@'%'");
        try (InProcessServer server = RoutedCutover.server(dir.resolve("server-store"), PW)) {
            RoutedCutover.create(server, "maria-pg-cut", SOURCE.server().jdbcUrl(), TARGET.server().jdbcUrl());
            // the application reaches the copied tables on PostgreSQL through its search path
            try (com.zaxxer.hikari.HikariDataSource sourcePool = RoutedCutover.pool(SOURCE.server().jdbcUrl(), PW);
                 com.zaxxer.hikari.HikariDataSource targetPool = RoutedCutover.pool(TARGET.server().jdbcUrl()
                         + "?currentSchema=tandem", PW)) {
                // a rolled-back insert moves MariaDB's AUTO_INCREMENT past every id it holds: the cutover sets the
                // identity past it
                JsonNode report = RoutedCutover.cutOverAndRollBack(server, "maria-pg-cut", sourcePool, targetPool,
                        accounts, () -> SOURCE.server().execute("START TRANSACTION",
                        "INSERT INTO events (account_id, amount) SELECT 1, 0 FROM seq_1_to_1000", "ROLLBACK"));
                assertThat(report.path("sequences").toString()).contains("set the identity of tandem.events.id");
            }
        }
        String invariant = "SELECT (SELECT SUM(balance) FROM tandem.accounts) - " + accounts + " * 1000 - (SELECT "
                + "COUNT(*) FROM tandem.events)";
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            assertThat(Long.parseLong(single(s, invariant))).as("MariaDB: sum(balance) - initial = count(events)")
                    .isZero();
            assertThat(Long.parseLong(single(t, invariant))).as("PostgreSQL: sum(balance) - initial = count(events)")
                    .isZero();
            long maxOnTarget = Long.parseLong(single(t, "SELECT max(id) FROM tandem.events"));
            s.createStatement().execute("SET time_zone = '+00:00'");
            List<Col> cols = List.of(Col.same("id"), Col.same("account_id"), Col.same("amount"),
                    new Col("DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f')", "to_char(at, 'YYYY-MM-DD HH24:MI:SS.US')",
                            As.TEXT));
            // every event the target took before the rollback is on the source
            assertThat(CrossEngineRows.differing(s, t, "events", "id <= " + maxOnTarget, "id", "id", cols)).isZero();
            assertThat(maxOnTarget).isPositive();
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
