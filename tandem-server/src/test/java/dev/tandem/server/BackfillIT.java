package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationListener;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code tandem migrate} (cdc none) end to end against real PostgreSQL: exact copies, refusals, retries, ranges. */
class BackfillIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "backfill-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() throws IOException {
        try (InputStream in = BackfillIT.class.getResourceAsStream("/backfill/types.sql")) {
            SOURCE.server().execute(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE SCHEMA nokey", "CREATE TABLE nokey.events (at timestamptz, what text)",
                "CREATE TABLE nokey.fine (id int PRIMARY KEY)",
                "CREATE SCHEMA retry", "CREATE TABLE retry.big (id int PRIMARY KEY, pad text)",
                "INSERT INTO retry.big SELECT g, repeat('x', 200) FROM generate_series(1, 30000) g",
                "CREATE SCHEMA wide", "CREATE TABLE wide.w (id int PRIMARY KEY, name varchar(20), amount numeric(10,2), "
                        + "score real, extra text)",
                "INSERT INTO wide.w SELECT g, 'n' || g, g / 3.0, g / 7.0, NULL FROM generate_series(1, 2000) g",
                "CREATE SCHEMA narrow", "CREATE TABLE narrow.n (id bigint PRIMARY KEY, name text, amount numeric(12,4))",
                "INSERT INTO narrow.n SELECT g, 'n' || g, g FROM generate_series(1, 10) g",
                "CREATE SCHEMA modes", "CREATE TABLE modes.keep (id int PRIMARY KEY, v text)",
                "INSERT INTO modes.keep SELECT g, 'source ' || g FROM generate_series(1, 100) g",
                "CREATE TABLE modes.merge (id int PRIMARY KEY, v text)",
                "INSERT INTO modes.merge SELECT g, 'source ' || g FROM generate_series(1, 100) g",
                "CREATE SCHEMA slow", "CREATE TABLE slow.s (id int PRIMARY KEY, v int)",
                "INSERT INTO slow.s SELECT g, g FROM generate_series(1, 20000) g",
                "CREATE SCHEMA ranged", "CREATE TABLE ranged.r (id int PRIMARY KEY, v int)",
                "INSERT INTO ranged.r SELECT g, g FROM generate_series(1, 1000) g",
                "CREATE TABLE ranged.s (id int PRIMARY KEY, v int)",
                "INSERT INTO ranged.s SELECT g, g FROM generate_series(1, 1000) g", "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                // wider types than the source's: loaded in text form, every value unchanged
                "CREATE SCHEMA wide", "CREATE TABLE wide.w (id bigint PRIMARY KEY, name text, amount numeric(12,2), "
                        + "score real, extra text, added_at timestamptz DEFAULT now())",
                // rows already on the target, and a trigger that must not fire for loaded rows
                "CREATE SCHEMA modes", "CREATE TABLE modes.fired (what text)",
                "CREATE FUNCTION modes.log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO modes.fired VALUES (TG_TABLE_NAME); RETURN NEW; END $$",
                "CREATE TABLE modes.keep (id int PRIMARY KEY, v text, note text DEFAULT 'target only')",
                "INSERT INTO modes.keep SELECT g, 'target ' || g, 'kept ' || g FROM generate_series(1, 10) g",
                "CREATE TRIGGER keep_log AFTER INSERT OR UPDATE ON modes.keep FOR EACH ROW EXECUTE FUNCTION modes.log()",
                "CREATE TABLE modes.merge (id int PRIMARY KEY, v text, note text DEFAULT 'target only')",
                "INSERT INTO modes.merge SELECT g, 'target ' || g, 'kept ' || g FROM generate_series(1, 10) g",
                "CREATE TRIGGER merge_log AFTER INSERT OR UPDATE ON modes.merge FOR EACH ROW EXECUTE FUNCTION modes.log()",
                // narrower types and a different key: every mismatch is reported, nothing is copied
                "CREATE SCHEMA narrow", "CREATE TABLE narrow.n (id int, name varchar(5), amount numeric(12,2) NOT NULL, "
                        + "code text NOT NULL, PRIMARY KEY (code))");
    }

    @Test
    void copiesEveryKeyShapeAndColumnTypeExactly() throws Exception {
        Path manifest = manifest("types-copy", "include: ['types.*']", "chunk_rows: 97, parallelism: 3", "");
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store(), "--json");
        assertThat(run.exitCode()).as(run.all()).isZero();
        JsonNode summary = new ObjectMapper().readTree(run.out());
        assertThat(summary.get("state").asText()).isEqualTo("completed");
        assertThat(summary.get("tables")).hasSize(10);
        long chunks = 0;
        for (JsonNode t : summary.get("tables")) {
            assertThat(t.get("chunks").fieldNames()).toIterable().containsExactly("PASS");
            chunks += t.get("chunks").get("PASS").asLong();
        }
        assertThat(chunks).as("tables split into many chunks").isGreaterThan(50);

        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            for (String[] table : tablesWithKeys(s, "types")) {
                TableComparison.assertEqual(s, t, table[0], table[1]);
            }
            // The comparison itself must see a one-byte difference in a TOASTed value.
            BackfillIT.execute(t, "UPDATE types.t_all SET big = big || 'x' WHERE id = 100");
            assertThat(TableComparison.compare(s, t, "types.t_all", "id", null).differing()).isEqualTo(1);
            BackfillIT.execute(t, "UPDATE types.t_all SET big = left(big, -1) WHERE id = 100");
            // built after the data: secondary index, unique key, foreign key; sequences past the source's values
            assertThat(single(t, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'types' AND indexname = 't_all_ts'"))
                    .isEqualTo("1");
            assertThat(single(t, "SELECT count(*) FROM pg_constraint WHERE conname = 't_child_parent_fkey'")).isEqualTo("1");
            assertThat(single(t, "SELECT count(*) FROM pg_constraint WHERE conname = 't_unique_sku_key'")).isEqualTo("1");
            assertThat(Long.parseLong(single(t, "SELECT nextval('types.t_all_id_seq')"))).isEqualTo(1201);
            assertThat(Long.parseLong(single(t, "SELECT nextval(pg_get_serial_sequence('types.t_all', 'ident'))")))
                    .isEqualTo(1201);
            assertThat(single(t, "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum "
                    + "WHERE enumtypid = 'types.mood'::regtype")).isEqualTo("sad,ok,happy");
        }

        String migrations = CliRun.of(ENV, "runs", "types-copy", "--store", store(), "--json").out();
        JsonNode runs = new ObjectMapper().readTree(migrations).get("runs");
        final long planned = chunks;
        assertThat(runs).singleElement().satisfies(r -> {
            assertThat(r.get("status").asText()).isEqualTo("ENDED");
            assertThat(r.get("chunks").fieldNames()).toIterable().containsExactly("PASS");
            assertThat(r.get("chunks").get("PASS").asLong()).isEqualTo(planned);
        });
        CliRun chunkList = CliRun.of(ENV, "chunks", runs.get(0).get("run_id").asText(), "--store", store(),
                "--status", "FAIL");
        assertThat(chunkList.exitCode()).isZero();
        assertThat(chunkList.out()).contains("(no chunks with status FAIL)");
    }

    @Test
    void refusesATableWithoutAKeyAndNamesTheWayOut() throws Exception {
        Path manifest = manifest("no-key", "include: ['nokey.*']", "chunk_rows: 100", "");
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(run.exitCode()).as(run.all()).isEqualTo(4);
        assertThat(run.err()).contains("table nokey.events has no primary key and no unique key on NOT NULL columns",
                "scope.exclude: [nokey.events]", "nothing was changed");
        try (Connection t = TARGET.server().connect()) {
            assertThat(single(t, "SELECT count(*) FROM pg_namespace WHERE nspname = 'nokey'")).isEqualTo("0");
        }
        // Leaving the table out is the way out; the migration, stopped before its first run, simply starts again.
        Files.writeString(manifest, Files.readString(manifest).replace("include: ['nokey.*']",
                "include: ['nokey.*'], exclude: [nokey.events]"));
        CliRun again = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(again.exitCode()).as(again.all()).isZero();
    }

    @Test
    void retriesAChunkWhoseTargetConnectionDiesAndFinishes() throws Exception {
        Path manifest = manifest("retry", "tables: [retry.big]", "chunk_rows: 1000, parallelism: 2, "
                + "rows_per_second: 6000", "failure_handling: {type: retry_then_all, retry_count: 3}\n");
        CompletableFuture<CliRun> migrating = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f",
                manifest.toString(), "--store", store()));
        int killed = 0;
        try (Connection t = TARGET.server().connect()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (killed == 0 && System.nanoTime() < deadline && !migrating.isDone()) {
                killed = Integer.parseInt(single(t, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        + "WHERE application_name = 'tandem' AND query LIKE 'COPY retry.big%' AND state = 'active'"));
                Thread.sleep(50);
            }
        }
        assertThat(killed).as("a chunk's target connection was killed mid-copy").isPositive();
        CliRun run = migrating.get(120, TimeUnit.SECONDS);
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).contains("retrying retry.big chunk");
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "retry.big", "id");
        }
    }

    @Test
    void honoursReplaceNoneAndMergeOnExistingRowsWithoutFiringTargetTriggers() throws Exception {
        Path keep = existing(manifest("keep", "tables: [modes.keep]", "replace: none, chunk_rows: 30", ""));
        CliRun none = CliRun.of(ENV, "migrate", "-f", keep.toString(), "--store", store());
        assertThat(none.exitCode()).as(none.all()).isZero();
        Path merge = existing(manifest("merge", "tables: [modes.merge]", "replace: merge, chunk_rows: 30", ""));
        CliRun merged = CliRun.of(ENV, "migrate", "-f", merge.toString(), "--store", store());
        assertThat(merged.exitCode()).as(merged.all()).isZero();
        try (Connection t = TARGET.server().connect()) {
            // none: the 10 rows already there stay as they were; the 90 others arrive
            assertThat(single(t, "SELECT count(*) FILTER (WHERE v LIKE 'target%') || '/' || count(*) FROM modes.keep"))
                    .isEqualTo("10/100");
            // merge: the source's columns win, the target-only column stays
            assertThat(single(t, "SELECT v || ' ' || note FROM modes.merge WHERE id = 3")).isEqualTo("source 3 kept 3");
            assertThat(single(t, "SELECT count(*) FROM modes.merge WHERE v LIKE 'source%'")).isEqualTo("100");
            assertThat(single(t, "SELECT count(*) FROM modes.fired")).as("target triggers did not fire").isEqualTo("0");
        }
    }

    @Test
    void takesAThrottleChangeWhileTheRunGoesOn() throws Exception {
        // At 50 rows/s this run would need 400 s; it can only finish within the test's wait if the change applies.
        Path manifest = manifest("slow", "tables: [slow.s]", "chunk_rows: 1000, parallelism: 2, rows_per_second: 50", "");
        CompletableFuture<CliRun> migrating = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f",
                manifest.toString(), "--store", store()));
        String runId = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (runId == null && System.nanoTime() < deadline) {
            Thread.sleep(200);
            CliRun runs = CliRun.of(ENV, "runs", "slow", "--store", store(), "--json");
            if (runs.exitCode() == 0) {
                JsonNode list = new ObjectMapper().readTree(runs.out()).get("runs");
                if (!list.isEmpty()) {
                    runId = list.get(0).get("run_id").asText();
                }
            }
        }
        assertThat(runId).as("the run started").isNotNull();
        CliRun throttle = CliRun.of(ENV, "throttle", runId, "0", "--store", store());
        assertThat(throttle.exitCode()).as(throttle.all()).isZero();
        assertThat(throttle.out()).contains("no limit");
        CliRun run = migrating.get(90, TimeUnit.SECONDS);
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(CliRun.of(ENV, "throttle", "42", "10", "--store", store()).err()).contains("run 42 not found");
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "slow.s", "id");
        }
    }

    @Test
    void loadsExistingTargetTablesWithWiderTypes() throws Exception {
        Path manifest = manifest("wide", "tables: [wide.w]", "chunk_rows: 300", "").resolveSibling("wide.yaml");
        Files.writeString(manifest, Files.readString(manifest).replace("schema: create", "schema: existing"));
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(run.exitCode()).as(run.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            assertThat(single(t, "SELECT count(*) FROM wide.w WHERE added_at IS NOT NULL")).isEqualTo("2000");
            String cols = "id, name, amount, score, extra";
            String src = single(s, "SELECT md5(string_agg(row(" + cols + ")::text, '|' ORDER BY id)) FROM wide.w");
            assertThat(single(t, "SELECT md5(string_agg(row(" + cols + ")::text, '|' ORDER BY id)) FROM wide.w"))
                    .isEqualTo(src);
        }
    }

    @Test
    void reportsEveryIncompatibilityOfExistingTargetTables() throws Exception {
        Path manifest = dir.resolve("narrow.yaml");
        Files.writeString(manifest, Files.readString(manifest("narrow", "tables: [narrow.n]", "chunk_rows: 300", ""))
                .replace("schema: create", "schema: existing"));
        CliRun run = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(run.exitCode()).as(run.all()).isEqualTo(5);
        assertThat(run.out()).contains(
                "column id is bigint on the source but integer on the target",
                "fix: ALTER TABLE narrow.n ALTER COLUMN id TYPE bigint;",
                "column name is text on the source but character varying(5) on the target",
                "column amount is numeric(12,4) on the source but numeric(12,2) on the target",
                "allows NULL on the source but not on the target",
                "target column code is NOT NULL without a default and has no source column",
                "target table narrow.n has no primary or unique key on (id), the source's key");
        CliRun migrate = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(migrate.exitCode()).isEqualTo(5);
        assertThat(migrate.err()).contains("preflight found 5 problems; nothing was changed");
    }

    @Test
    void copiesOnlyTheKeyRangeAskedForAndKeepsTheMigrationInBackfill() throws Exception {
        Path manifest = manifest("ranged", "tables: [ranged.r]", "chunk_rows: 30", "");
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store(), "--range-min", "100",
                "--range-max", "250");
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).contains("copied its key range", "backfill");
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            assertThat(single(t, "SELECT min(id) || '-' || max(id) || '-' || count(*) FROM ranged.r"))
                    .isEqualTo("100-250-151");
            assertThat(TableComparison.compare(s, t, "ranged.r", "id", "id BETWEEN 100 AND 250").equal()).isTrue();
        }
        // run again without a range: a new run plans the whole table (replacing the range copied) and completes
        CliRun again = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(again.exitCode()).as(again.all()).isZero();
        assertThat(again.out()).contains("Planning chunks").doesNotContain("Continuing run");
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "ranged.r", "id");
        }
        try (ControlStore cs = ControlStore.open(store(), Map.<String, String>of()::get)) {
            assertThat(cs.migrations().get("ranged").status().state().wire()).isEqualTo("completed");
            assertThat(cs.runs().list("ranged")).hasSize(2).allMatch(r -> r.prevRunId() == null);
        }
    }

    @Test
    void aRerunWithoutPrevRunContinuesTheNewestRunAndAMissingRunSaysWhatToDo() throws Exception {
        Path manifest = manifest("rerun", "tables: [ranged.s]", "chunk_rows: 30", "");
        // a first run stopped as its copy starts (the operator's Ctrl-C): its run is stored, no chunk copied
        try (ControlStore cs = ControlStore.open(store(), Map.<String, String>of()::get)) {
            MigrationRunner[] runner = new MigrationRunner[1];
            runner[0] = new MigrationRunner(cs, ConnectorRegistry.load(), new MigrationListener() {
                @Override
                public void line(String text) {
                }

                @Override
                public void planned(String table, long estimatedRows, int chunks) {
                    runner[0].stop();
                }
            });
            MigrationOutcome first = runner[0].migrate(new ManifestReader(ENV::get).document(manifest,
                    ManifestReader.Purpose.RUN), new RunOptions(null, null, null, "test"));
            assertThat(first.status().state().wire()).isEqualTo("paused");
            assertThat(cs.runs().list("rerun")).hasSize(1);
        }
        CliRun missing = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store(), "--prev-run", "42");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("--prev-run 42: run not found in the control store",
                "Run tandem migrate -f MANIFEST without --prev-run: it continues from the newest run");
        CliRun again = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(again.exitCode()).as(again.all()).isZero();
        assertThat(again.out()).contains("Continuing run");
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "ranged.s", "id");
        }
    }

    private Path manifest(String id, String scope, String data, String extra) throws IOException {
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n",
                "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {" + scope + "}",
                "schema: create",
                "data: {type: scan, " + data + "}",
                "cdc: {method: none}",
                extra));
        return file;
    }

    private static Path existing(Path manifest) throws IOException {
        Files.writeString(manifest, Files.readString(manifest).replace("schema: create", "schema: existing"));
        return manifest;
    }

    private String store() {
        return dir.resolve("store").toString();
    }

    /** Every table of a schema with its key (primary, else the first unique) as an ORDER BY list. */
    static List<String[]> tablesWithKeys(Connection c, String schema) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT format('%I.%I', n.nspname, t.relname),
                       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                          FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
                  FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
                  JOIN LATERAL (SELECT * FROM pg_index x WHERE x.indrelid = t.oid AND x.indisunique
                                 ORDER BY x.indisprimary DESC LIMIT 1) i ON true
                 WHERE n.nspname = '""" + schema + "' AND t.relkind = 'r' ORDER BY 1")) {
            while (rs.next()) {
                out.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        return out;
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static String single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
