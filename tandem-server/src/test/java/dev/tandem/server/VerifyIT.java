package dev.tandem.server;

import static dev.tandem.server.VerifyReports.found;
import static dev.tandem.server.VerifyReports.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem verify} through the CLI on two PostgreSQL servers that hold the same rows (many column types, an
 * integer key, a composite key, a text key), with no migration in the store: clean first; then a changed value, a
 * deleted row and an extra row on the target are each reported (kind, key, differing column) and nothing else;
 * {@code --prev-run} verifies only the chunks that differed; {@code --repair} fixes them; a last verify is clean.
 */
class VerifyIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "verify-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] SCHEMA = {
        "CREATE TABLE items (id bigint PRIMARY KEY, name text, n numeric(20,4), ts timestamptz, d date, "
                + "iv interval, tags text[], b bytea, f float8, j jsonb, u uuid, ok boolean, big text)",
        "INSERT INTO items SELECT g, 'name ' || g, g / 7.0, '2024-01-01'::timestamptz + g * interval '1 minute', "
                + "'2024-01-01'::date + g % 365, g * interval '1 second', ARRAY['a' || g, NULL], "
                + "decode(md5(g::text), 'hex'), g / 3.0, jsonb_build_object('k', g, 'l', ARRAY[g, g + 1]), "
                + "md5(g::text)::uuid, g % 2 = 0, CASE WHEN g % 100 = 0 THEN repeat(md5(g::text), 200) END "
                + "FROM generate_series(1, 30000) g",
        "CREATE TABLE pairs (a int, b int, v text, PRIMARY KEY (a, b))",
        "INSERT INTO pairs SELECT g / 10, g % 10, 'v' || g FROM generate_series(1, 5000) g",
        "CREATE TABLE codes (code text PRIMARY KEY, n int)",
        "INSERT INTO codes SELECT 'code-' || g, g FROM generate_series(1, 4000) g",
        "ANALYZE"};

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
            db.server().execute(SCHEMA);
        }
    }

    @Test
    void reportsExactlyTheInjectedDriftAndRepairsIt() throws Exception {
        Path manifest = dir.resolve("v.yaml");
        Files.writeString(manifest, String.join("\n", "id: verify-it",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [items, pairs, codes]}",
                "data: {chunk_rows: 2000}", ""));
        JsonNode clean = verify(manifest, 0);
        assertThat(clean.path("equal").asBoolean()).isTrue();
        assertThat(rows(clean, "public.items", "processed_rows")).isEqualTo(30000);
        assertThat(rows(clean, "public.items", "matching_rows")).isEqualTo(30000);
        assertThat(rows(clean, "public.pairs", "matching_rows")).isEqualTo(5000);
        assertThat(rows(clean, "public.codes", "matching_rows")).isEqualTo(4000);

        TARGET.server().execute("UPDATE items SET j = '{\"k\": 0}' WHERE id = 1234",
                "UPDATE items SET big = big || 'x' WHERE id = 2500",
                "DELETE FROM items WHERE id = 29999",
                "INSERT INTO items (id, name) VALUES (40000, 'only on the target')",
                "UPDATE pairs SET v = 'changed' WHERE a = 7 AND b = 3",
                "DELETE FROM codes WHERE code = 'code-777'",
                "INSERT INTO codes VALUES ('zzz-extra', 1)");
        JsonNode drift = verify(manifest, 1);
        assertThat(drift.path("equal").asBoolean()).isFalse();
        assertThat(drift.path("differing_rows").asLong()).isEqualTo(7);
        assertThat(found(drift)).containsExactlyInAnyOrder(
                "public.items mismatch [1234] [j]",
                "public.items mismatch [2500] [big]",
                "public.items missing_on_target [29999] []",
                "public.items extra_on_target [40000] []",
                "public.pairs mismatch [7, 3] [v]",
                "public.codes missing_on_target [code-777] []",
                "public.codes extra_on_target [zzz-extra] []");
        JsonNode items = table(drift, "public.items");
        assertThat(items.path("mismatched_rows").asLong()).isEqualTo(2);
        assertThat(items.path("extra_rows_source").asLong()).isEqualTo(1);
        assertThat(items.path("extra_rows_target").asLong()).isEqualTo(1);
        assertThat(items.path("matching_rows").asLong()).isEqualTo(29997);
        JsonNode bigSample = null;
        for (JsonNode s : items.path("samples")) {
            if (s.path("key").get(0).asText().equals("2500")) {
                bigSample = s;
            }
        }
        assertThat(bigSample.path("columns").path("big").path("target").asText()).as("a long value is abbreviated")
                .endsWith("... (6401 chars)");
        long driftRun = drift.path("run_id").asLong();
        long diffChunks;
        try (ControlStore cs = ControlStore.openExisting(dir.resolve("store").toString(), ENV::get)) {
            List<DriftLog.DriftRow> rows = cs.drift().list(driftRun);
            assertThat(rows).extracting(DriftLog.DriftRow::keyValues)
                    .contains("[\"1234\"]", "[\"7\",\"3\"]", "[\"zzz-extra\"]").hasSize(7);
            diffChunks = rows.stream().map(d -> d.table() + "#" + d.chunkNo()).distinct().count();
            assertThat(diffChunks).isGreaterThanOrEqualTo(5); // items: 3 (1234, 2500, the last), pairs 1, codes 1+
            assertThat(cs.runs().chunks(driftRun, ChunkStatus.DIFF)).hasSize((int) diffChunks);
        }

        // --prev-run: only the chunks that differed, and they still do
        CliRun again = CliRun.of(ENV, "verify", "-f", manifest.toString(), "--store", store(), "--json",
                "--prev-run", String.valueOf(driftRun));
        assertThat(again.exitCode()).as(again.all()).isEqualTo(1);
        JsonNode againJson = JSON.readTree(again.out());
        assertThat(againJson.path("differing_rows").asLong()).isEqualTo(7);
        long againRun = againJson.path("run_id").asLong();
        try (ControlStore cs = ControlStore.openExisting(dir.resolve("store").toString(), ENV::get)) {
            assertThat(cs.runs().chunks(againRun, null)).hasSize((int) diffChunks);
        }

        JsonNode repaired = verify(manifest, 0, "--repair");
        assertThat(repaired.path("differing_rows").asLong()).isEqualTo(7);
        assertThat(repaired.path("unrepaired_rows").asLong()).isZero();
        try (ControlStore cs = ControlStore.openExisting(dir.resolve("store").toString(), ENV::get)) {
            long run = repaired.path("run_id").asLong();
            assertThat(cs.runs().chunks(run, ChunkStatus.DIFF_CORRECTED)).hasSize((int) diffChunks);
            assertThat(cs.drift().list(run)).allMatch(d -> d.repairedAt() != null);
        }
        JsonNode last = verify(manifest, 0);
        assertThat(last.path("equal").asBoolean()).isTrue();

        CliRun text = CliRun.of(ENV, "verify", "-f", manifest.toString(), "--store", store());
        assertThat(text.exitCode()).as(text.all()).isZero();
        assertThat(text.out()).contains("PROCESSED").contains("public.items").contains(": equal");
    }

    @Test
    void aTargetTableThatCannotBeReadIsATargetProblem() throws Exception {
        TARGET.server().execute("CREATE ROLE reader LOGIN PASSWORD '" + PW + "'",
                "GRANT SELECT ON items, pairs TO reader");
        Path manifest = dir.resolve("reader.yaml");
        Files.writeString(manifest, String.join("\n", "id: verify-reader",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: reader, password: ${env:PW}}",
                "scope: {tables: [items, pairs, codes]}", ""));
        CliRun run = CliRun.of(ENV, "verify", "-f", manifest.toString(), "--store", store());
        assertThat(run.exitCode()).as(run.all()).isEqualTo(5);
        assertThat(run.err()).contains("verify failed on the target", "permission denied").doesNotContain(PW);
    }

    @Test
    void columnsThatDifferAreASchemaDifferenceNeverEqual() throws Exception {
        // equal rows over the columns both have: a source ADD COLUMN the target never got, a type changed on one
        // side, a column only the target has
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE TABLE accounts (id int PRIMARY KEY, amount numeric(12,2), owner text)",
                    "INSERT INTO accounts SELECT g, g, 'o' || g FROM generate_series(1, 3000) g");
        }
        SOURCE.server().execute("ALTER TABLE accounts ADD COLUMN note text");
        TARGET.server().execute("ALTER TABLE accounts ALTER COLUMN amount TYPE text",
                "ALTER TABLE accounts ADD COLUMN audit_at timestamptz");
        Path manifest = dir.resolve("schema.yaml");
        Files.writeString(manifest, String.join("\n", "id: verify-schema",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [accounts]}", ""));
        CliRun run = CliRun.of(ENV, "verify", "-f", manifest.toString(), "--store", store());
        assertThat(run.exitCode()).as("drift found: " + run.all()).isEqualTo(1);
        assertThat(run.out()).contains("public.accounts schema: column note (text) is on the source only",
                "public.accounts schema: column amount is numeric(12,2) on the source, text on the target",
                "public.accounts schema: column audit_at (timestamp with time zone) is on the target only",
                "3 column differences", "rows over the common columns: equal")
                .doesNotContainPattern("Run \\d+: equal");

        JsonNode json = verify(manifest, 1);
        assertThat(json.path("equal").asBoolean()).isFalse();
        assertThat(json.path("schema_differences").asInt()).isEqualTo(3);
        assertThat(table(json, "public.accounts").path("schema_differences").toString()).contains("note",
                "amount", "audit_at");
        try (ControlStore cs = ControlStore.openExisting(store(), ENV::get)) {
            long runId = json.path("run_id").asLong();
            assertThat(cs.drift().list(runId).stream().filter(d -> d.kind().wire().equals("schema"))
                    .map(DriftLog.DriftRow::keyValues).toList()).as("stored as drift, keyed by column")
                    .containsExactlyInAnyOrder("{\"column\":\"note\"}", "{\"column\":\"amount\"}",
                            "{\"column\":\"audit_at\"}");
        }

        SOURCE.server().execute("ALTER TABLE accounts DROP COLUMN note", "ALTER TABLE accounts ADD COLUMN audit_at "
                + "timestamptz", "ALTER TABLE accounts ALTER COLUMN amount TYPE text");
        assertThat(verify(manifest, 0).path("equal").asBoolean()).as("the same columns again").isTrue();
    }

    private JsonNode verify(Path manifest, int exit, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("verify", "-f", manifest.toString(), "--store", store(), "--json"));
        args.addAll(List.of(more));
        CliRun run = CliRun.of(ENV, args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.all()).isEqualTo(exit);
        return JSON.readTree(run.out());
    }

    private static long rows(JsonNode report, String table, String field) {
        return table(report, table).path(field).asLong();
    }

    private String store() {
        return dir.resolve("store").toString();
    }
}
