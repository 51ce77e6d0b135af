package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.server.wire.Json;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema changes on the source while a migration streams (issue: no silent divergence), through the CLI against real
 * PostgreSQL under a concurrent writer: {@code cdc.on_schema_change: stop} pauses at the change (rows before it on
 * the target, none of its new column), names the table, the difference and the ALTER for the target, fires an alert;
 * after the operator runs it, {@code tandem resume} ends with equal tables including the new column. {@code apply}
 * adds, widens and drops by itself and stops for a narrowing. A rename and DDL on a table nothing writes to are found
 * by the catalog comparison; so is a new table matching an include pattern. A kill -9 after the DDL loses nothing.
 */
class SchemaChangeIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "sc-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final int ROWS = 2_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void addColumnStopsAtTheChangeAndResumesOnceTheTargetHasIt() throws Exception {
        SOURCE.server().execute("CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, g FROM generate_series(1, " + ROWS + ") g", "ANALYZE");
        Streaming run = streaming("add-stop", "tables: [public.accounts]", "stop");
        String store = run.store();
        CompletableFuture<CliRun> migrate = run.migrate();
        NoteWriter writer = new NoteWriter("accounts", 11);
        writer.start();
        Thread.sleep(1_500);
        SOURCE.server().execute("INSERT INTO accounts VALUES (-1, -1)"); // committed before the DDL
        SOURCE.server().execute("ALTER TABLE accounts ADD COLUMN note text");
        writer.notes = true;

        CliRun stopped = migrate.get(2, TimeUnit.MINUTES);
        assertThat(stopped.exitCode()).as(stopped.all()).isEqualTo(3);
        assertThat(stopped.all()).contains("public.accounts", "column note (text) was added on the source",
                "ALTER TABLE public.accounts ADD COLUMN note text", "tandem resume add-stop",
                "ALERT high schema_change");
        JsonNode status = status("add-stop", store);
        assertThat(status.path("status").asText()).isEqualTo("paused");
        assertThat(alerts(status, "schema_change")).singleElement().asString().contains("column note");
        try (Connection t = TARGET.server().connect(); Statement st = t.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM accounts WHERE id = -1")) {
            rs.next();
            assertThat(rs.getLong(1)).as("the row committed before the DDL was applied").isEqualTo(1);
        }

        TARGET.server().execute("ALTER TABLE accounts ADD COLUMN note text");
        CompletableFuture<CliRun> resumed = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "resume", "add-stop",
                "--store", store));
        Thread.sleep(3_000);
        assertThat(writer.stopAndJoin()).isNull();
        assertThat(writer.noted).as("writes set the new column while the migration was paused").isPositive();
        Converge.tables(SOURCE.server(), TARGET.server(), "accounts", "id");
        assertThat(alerts(status("add-stop", store), "schema_change")).as("resolved once the catalogs agree")
                .isEmpty();
        stop("add-stop", store, resumed);
    }

    @Test
    void aColumnAddedOnTheTargetFirstNeedsNoPause() throws Exception {
        SOURCE.server().execute("CREATE TABLE wallets (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO wallets SELECT g, g FROM generate_series(1, " + ROWS + ") g", "ANALYZE");
        Streaming run = streaming("target-first", "tables: [public.wallets]", "stop");
        String store = run.store();
        CompletableFuture<CliRun> migrate = run.migrate();
        NoteWriter writer = new NoteWriter("wallets", 14);
        writer.start();
        TARGET.server().execute("ALTER TABLE wallets ADD COLUMN note text");
        Thread.sleep(3_000); // past a catalog comparison: a column of the target's own is no difference
        SOURCE.server().execute("ALTER TABLE wallets ADD COLUMN note text");
        writer.notes = true;
        Thread.sleep(2_000);
        assertThat(writer.stopAndJoin()).isNull();
        assertThat(writer.noted).isPositive();
        Converge.tables(SOURCE.server(), TARGET.server(), "wallets", "id");
        assertThat(migrate.isDone()).as("no stop").isFalse();
        stop("target-first", store, migrate);
    }

    /**
     * ADD COLUMN while chunks are still copying: rows updated after it in chunks not copied yet get their new values
     * only from the copy (the stream's changes for them are dropped by the per-chunk rule), so a chunk read with the
     * old columns after the DDL must not be committed. Here nothing writes after the DDL (the stream sees no row of
     * the new shape, and the catalog comparison is 30 s away), so it is the copy's own check that stops the
     * migration; once the target has the column, {@code tandem resume} copies the remaining chunks with it, under
     * writes that set it, and the tables end equal.
     */
    @Test
    void addColumnWhileChunksCopyPausesAndTheResumedCopyCarriesTheColumn() throws Exception {
        SOURCE.server().execute("CREATE TABLE orders (id int PRIMARY KEY, amount bigint NOT NULL)",
                "INSERT INTO orders SELECT g, g FROM generate_series(1, 20000) g", "ANALYZE");
        Path manifest = dir.resolve("copying.yaml");
        Files.writeString(manifest, String.join("\n", "id: copying",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [public.orders]}", "schema: create",
                "data: {type: scan, chunk_rows: 1000, parallelism: 1, rows_per_second: 2000}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s, schema_check_interval: 30s}",
                "validation: {continuous: false}", "continuous: {stop_when: manual}", ""));
        String store = dir.resolve("store").toString();
        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        try (ControlStore cs = StoreWait.registered(store, ENV, "copying")) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (cs.runs().list("copying").stream().noneMatch(r -> cs.runs().chunkCounts(r.runId())
                    .getOrDefault(dev.tandem.core.store.ChunkStatus.PASS, 0L) >= 2)) {
                assertThat(System.nanoTime()).as("two chunks copied within 2 minutes").isLessThan(deadline);
                assertThat(migrate.isDone()).as("migrate ended early").isFalse();
                Thread.sleep(100);
            }
        }
        SOURCE.server().execute("ALTER TABLE orders ADD COLUMN note text DEFAULT 'none'");

        CliRun stopped = migrate.get(2, TimeUnit.MINUTES);
        assertThat(stopped.exitCode()).as(stopped.all()).isEqualTo(3);
        assertThat(stopped.all()).contains("column note (text) was added on the source",
                "while its chunks were being copied", "ALTER TABLE public.orders ADD COLUMN note text DEFAULT "
                        + "'none'::text", "tandem resume copying");
        assertThat(status("copying", store).path("status").asText()).isEqualTo("paused");

        TARGET.server().execute("ALTER TABLE orders ADD COLUMN note text DEFAULT 'none'");
        CompletableFuture<CliRun> resumed = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "resume", "copying",
                "--store", store));
        SOURCE.server().execute("UPDATE orders SET note = 'late ' || id WHERE id % 10 = 0");
        try (ControlStore cs = StoreWait.registered(store, ENV, "copying")) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (cs.migrations().get("copying").status().phase() != dev.tandem.core.lifecycle.Phase.CATCH_UP) {
                assertThat(System.nanoTime()).as("catch-up within 3 minutes").isLessThan(deadline);
                assertThat(resumed.isDone()).as(() -> "resume ended early: " + resumed.join().all()).isFalse();
                Thread.sleep(200);
            }
        }
        Converge.tables(SOURCE.server(), TARGET.server(), "orders", "id");
        stop("copying", store, resumed);
    }

    @Test
    void applyAddsWidensAndDropsItselfAndStopsForANarrowing() throws Exception {
        SOURCE.server().execute("CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, name varchar(10), "
                        + "price numeric(12,2), extra text)",
                "INSERT INTO items SELECT g, g, 'n' || g, g, 'x' FROM generate_series(1, " + ROWS + ") g", "ANALYZE");
        Streaming run = streaming("apply", "tables: [public.items]", "apply");
        String store = run.store();
        CompletableFuture<CliRun> migrate = run.migrate();
        SourceWriter writer = new SourceWriter(SOURCE.server(), 12) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                int id = 1 + r.nextInt(ROWS + 200);
                st.execute("INSERT INTO items (id, qty, name) VALUES (" + id + ", " + n + ", 'w" + (n % 1000)
                        + "') ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty, name = EXCLUDED.name");
                Thread.sleep(2);
            }
        }.start();
        Thread.sleep(1_000);
        SOURCE.server().execute("ALTER TABLE items ADD COLUMN note text DEFAULT 'n/a'",
                "UPDATE items SET note = 'set ' || id WHERE id % 7 = 0",
                "ALTER TABLE items ALTER COLUMN qty TYPE bigint",
                "UPDATE items SET qty = qty + 5000000000 WHERE id % 11 = 0",
                "ALTER TABLE items ALTER COLUMN name TYPE varchar(50)",
                "UPDATE items SET name = repeat('y', 40) WHERE id % 13 = 0",
                "ALTER TABLE items DROP COLUMN extra",
                "UPDATE items SET price = price + 1 WHERE id % 17 = 0");
        Thread.sleep(2_000);
        assertThat(writer.stopAndJoin()).isNull();
        Converge.tables(SOURCE.server(), TARGET.server(), "items", "id");
        assertThat(targetColumns("items")).containsExactly("id integer", "qty bigint",
                "name character varying(50)", "price numeric(12,2)", "note text");
        assertThat(migrate.isDone()).as("apply altered the target without a stop").isFalse();
        assertThat(status("apply", store).path("status").asText()).isEqualTo("running");

        // continuous verification now compares the columns as they are: drift in the added column is found (it
        // compared the columns the migration started with, and would never have looked at note)
        TARGET.server().execute("UPDATE items SET note = 'drifted' WHERE id = 3");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        boolean found = false;
        while (!found && System.nanoTime() < deadline) {
            try (ControlStore cs = ControlStore.openReader(store, ENV::get)) {
                for (var verifyRun : cs.runs().list("apply")) {
                    found |= verifyRun.kind() == RunRecord.Kind.VERIFY && cs.drift().list(verifyRun.runId()).stream()
                            .anyMatch(d -> d.keyValues().equals("[\"3\"]") && String.valueOf(d.columns())
                                    .contains("note"));
                }
            }
            Thread.sleep(500);
        }
        assertThat(found).as("drift in the added column note, found by continuous verification").isTrue();
        TARGET.server().execute("UPDATE items SET note = 'n/a' WHERE id = 3"); // as on the source

        SOURCE.server().execute("ALTER TABLE items ALTER COLUMN price TYPE numeric(8,2)",
                "UPDATE items SET price = 1 WHERE id = 1");
        CliRun stopped = migrate.get(2, TimeUnit.MINUTES);
        assertThat(stopped.exitCode()).as(stopped.all()).isEqualTo(3);
        assertThat(stopped.all()).contains("column price is numeric(8,2) on the source now, numeric(12,2) on the "
                + "target", "not a widening", "ALTER TABLE public.items ALTER COLUMN price TYPE numeric(8,2)");
        assertThat(status("apply", store).path("status").asText()).isEqualTo("paused");
    }

    @Test
    void aRenameOnATableNothingWritesIsFoundByComparingTheCatalogs() throws Exception {
        SOURCE.server().execute("CREATE TABLE quiet (id int PRIMARY KEY, a text, b int)",
                "INSERT INTO quiet SELECT g, 'a' || g, g FROM generate_series(1, 500) g", "ANALYZE");
        Streaming run = streaming("quiet", "tables: [public.quiet]", "stop");
        String store = run.store();
        CompletableFuture<CliRun> migrate = run.migrate();
        SOURCE.server().execute("ALTER TABLE quiet RENAME COLUMN a TO a2");
        CliRun stopped = migrate.get(2, TimeUnit.MINUTES);
        assertThat(stopped.exitCode()).as(stopped.all()).isEqualTo(3);
        assertThat(stopped.all()).contains("found by comparing the catalogs",
                "column a is gone from the source and a2 (text) appeared: most likely renamed",
                "ALTER TABLE public.quiet RENAME COLUMN a TO a2");

        // the operator renames it on the target too; then a drop nothing writes after is found the same way
        TARGET.server().execute("ALTER TABLE quiet RENAME COLUMN a TO a2");
        SOURCE.server().execute("ALTER TABLE quiet DROP COLUMN b");
        CliRun again = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "resume", "quiet", "--store", store))
                .get(2, TimeUnit.MINUTES);
        assertThat(again.exitCode()).as(again.all()).isEqualTo(3);
        assertThat(again.all()).contains("column b (integer) is gone from the source; the target still has it");
        assertThat(again.all()).doesNotContain("most likely renamed");

        // dropped on the target as well: the stream goes on, and rows written now arrive
        TARGET.server().execute("ALTER TABLE quiet DROP COLUMN b");
        CompletableFuture<CliRun> resumed = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "resume", "quiet",
                "--store", store));
        SOURCE.server().execute("UPDATE quiet SET a2 = 'changed' WHERE id <= 50", "INSERT INTO quiet VALUES (501, 'z')");
        Converge.tables(SOURCE.server(), TARGET.server(), "quiet", "id");
        stop("quiet", store, resumed);
    }

    @Test
    void aNewTableMatchingTheIncludePatternStopsTheMigration() throws Exception {
        SOURCE.server().execute("CREATE SCHEMA app", "CREATE TABLE app.one (id int PRIMARY KEY, v text)",
                "INSERT INTO app.one SELECT g, 'v' FROM generate_series(1, 100) g", "ANALYZE");
        Streaming run = streaming("newtable", "include: ['app.*']", "apply");
        String store = run.store();
        CompletableFuture<CliRun> migrate = run.migrate();
        SOURCE.server().execute("CREATE TABLE app.two (id int PRIMARY KEY)", "INSERT INTO app.two VALUES (1)");
        CliRun stopped = migrate.get(2, TimeUnit.MINUTES);
        assertThat(stopped.exitCode()).as(stopped.all()).isEqualTo(3);
        assertThat(stopped.all()).contains("table app.two is in scope (scope.include [app.*]) but is not one of the "
                + "tables this migration started with", "does not take in new tables");
        assertThat(status("newtable", store).path("status").asText()).isEqualTo("paused");
    }

    @Test
    void killedAfterTheDdlTheResumeLosesNothing() throws Exception {
        SOURCE.server().execute("CREATE TABLE ledger (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO ledger SELECT g, g FROM generate_series(1, " + ROWS + ") g", "ANALYZE");
        Path manifest = manifest("kill", "tables: [public.ledger]", "stop");
        String store = dir.resolve("store").toString();
        Process child = ChildMigrate.start(manifest, store, dir.resolve("kill.log"), ENV);
        try (ControlStore cs = StoreWait.registered(store, ENV, "kill")) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (cs.migrations().get("kill").status().phase() != dev.tandem.core.lifecycle.Phase.CATCH_UP) {
                assertThat(System.nanoTime()).as(Files.readString(dir.resolve("kill.log"))).isLessThan(deadline);
                assertThat(child.isAlive()).as(Files.readString(dir.resolve("kill.log"))).isTrue();
                Thread.sleep(100);
            }
        }
        NoteWriter writer = new NoteWriter("ledger", 13);
        writer.start();
        Thread.sleep(1_000);
        SOURCE.server().execute("ALTER TABLE ledger ADD COLUMN note text");
        writer.notes = true;
        Thread.sleep(300);
        child.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // kill -9, whether or not it saw the change yet

        TARGET.server().execute("ALTER TABLE ledger ADD COLUMN note text");
        CompletableFuture<CliRun> again = migrate(manifest, store);
        Thread.sleep(2_000);
        assertThat(writer.stopAndJoin()).isNull();
        assertThat(writer.noted).isPositive();
        Converge.tables(SOURCE.server(), TARGET.server(), "ledger", "id");
        stop("kill", store, again);
    }

    /** Updates balances; once {@link #notes} is set, sets the new column too. */
    private static final class NoteWriter extends SourceWriter {
        private final String table;
        volatile boolean notes;
        volatile long noted;

        NoteWriter(String table, long seed) {
            super(SOURCE.server(), seed);
            this.table = table;
        }

        @Override
        void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
            int id = 1 + r.nextInt(ROWS + 100);
            if (notes) {
                st.execute("INSERT INTO " + table + " (id, balance, note) VALUES (" + id + ", " + n + ", 'note " + n
                        + "') ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, note = EXCLUDED.note");
                noted++;
            } else {
                st.execute("INSERT INTO " + table + " VALUES (" + id + ", " + n + ") ON CONFLICT (id) DO UPDATE SET "
                        + "balance = EXCLUDED.balance");
            }
            Thread.sleep(3);
        }
    }

    /** A migration of {@code id} started through the CLI and streaming (in catch-up). */
    private record Streaming(String store, CompletableFuture<CliRun> migrate) {
    }

    private Streaming streaming(String id, String scope, String policy) throws Exception {
        Path manifest = manifest(id, scope, policy);
        String store = dir.resolve("store").toString();
        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, id, migrate);
        return new Streaming(store, migrate);
    }

    private Path manifest(String id, String scope, String policy) throws Exception {
        Path manifest = dir.resolve(id + ".yaml");
        Files.writeString(manifest, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {" + scope + "}", "schema: create",
                "cdc: {method: logical_replication, heartbeat_interval: 1s, on_schema_change: " + policy
                        + ", schema_check_interval: 2s}",
                // the apply test verifies continuously: it must compare the columns apply added
                id.equals("apply") ? "validation: {continuous: true, rows_per_second: 100000}"
                        : "validation: {continuous: false}",
                "continuous: {stop_when: manual}", ""));
        return manifest;
    }

    private static CompletableFuture<CliRun> migrate(Path manifest, String store) {
        return CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store",
                store));
    }

    private static JsonNode status(String id, String store) throws Exception {
        CliRun s = CliRun.of(ENV, "status", id, "--store", store, "--json");
        assertThat(s.exitCode()).as(s.all()).isZero();
        return Json.MAPPER.readTree(s.out());
    }

    /** The messages of the open alerts named {@code name} in a status document. */
    private static List<String> alerts(JsonNode status, String name) {
        List<String> out = new ArrayList<>();
        for (JsonNode a : status.path("alerts")) {
            if (a.path("name").asText().equals(name)) {
                out.add(a.path("message").asText());
            }
        }
        return out;
    }

    private static List<String> targetColumns(String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection t = TARGET.server().connect(); Statement st = t.createStatement();
             ResultSet rs = st.executeQuery("SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM "
                     + "pg_attribute WHERE attrelid = '" + table + "'::regclass AND attnum > 0 AND NOT attisdropped "
                     + "ORDER BY attnum")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static void stop(String id, String store, CompletableFuture<CliRun> running) throws Exception {
        CliRun stop = CliRun.of(ENV, "stop", id, "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = running.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
    }
}
