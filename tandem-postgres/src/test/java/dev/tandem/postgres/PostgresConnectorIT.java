package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Introspection and preflight against real PostgreSQL: a source with wal_level=logical and a target. */
class PostgresConnectorIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    @BeforeAll
    static void schema() {
        SOURCE.server().execute(
                "CREATE ROLE app NOLOGIN",
                "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text NOT NULL, "
                        + "total numeric(12,2), doubled numeric GENERATED ALWAYS AS (total * 2) STORED)",
                "CREATE TABLE items (order_id bigint, line int, sku text, PRIMARY KEY (order_id, line))",
                "CREATE TABLE by_code (code text NOT NULL UNIQUE, name text, nick text UNIQUE)",
                "CREATE TABLE partial_only (a int, b text)",
                "CREATE UNIQUE INDEX partial_only_a ON partial_only (a) WHERE a > 0",
                "CREATE TABLE serials (id serial PRIMARY KEY, note text)",
                "CREATE TABLE notes (id int PRIMARY KEY, body text)",
                "ALTER TABLE notes OWNER TO app",
                "ALTER TABLE orders OWNER TO app", "ALTER TABLE items OWNER TO app", "ALTER TABLE by_code OWNER TO app",
                "ALTER TABLE partial_only OWNER TO app", "ALTER TABLE serials OWNER TO app",
                "INSERT INTO items SELECT g, 1, 'sku' FROM generate_series(1, 100) g",
                "ANALYZE",
                // A migrator with exactly what logical replication needs.
                "CREATE ROLE good LOGIN REPLICATION PASSWORD 'good-pw'",
                "GRANT app TO good",
                "GRANT CREATE ON DATABASE tandem TO good",
                // A migrator that may log in and read one table, nothing else.
                "CREATE ROLE weak LOGIN PASSWORD 'weak-pw'",
                "GRANT SELECT ON orders TO weak");
        TARGET.server().execute(
                "CREATE ROLE loader LOGIN PASSWORD 'loader-pw'",
                "CREATE TABLE items (order_id bigint, line int, sku text, PRIMARY KEY (order_id, line))",
                "INSERT INTO items VALUES (1, 1, 'already here')",
                "CREATE TABLE serials (id int, note text)",
                "CREATE TABLE notes (id int PRIMARY KEY, body text)",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON items, serials, notes TO loader");
    }

    @Test
    void describesColumnsKeysAndEstimates() throws Exception {
        PostgresIntrospector in = new PostgresIntrospector();
        try (Connection c = SOURCE.server().connect()) {
            assertThat(in.defaultSchema(c)).isEqualTo("public");
            assertThat(in.listTables(c)).extracting(TableRef::name)
                    .containsExactly("by_code", "items", "notes", "orders", "partial_only", "serials");
            TableInfo orders = in.describe(c, new TableRef("public", "orders")).orElseThrow();
            assertThat(orders.primaryKey()).isEqualTo(new KeyInfo("orders_pkey", List.of("id"), true));
            assertThat(orders.column("id").orElseThrow().identity()).isTrue();
            assertThat(orders.column("doubled").orElseThrow().generated()).isTrue();
            assertThat(orders.column("total").orElseThrow().nativeType()).isEqualTo("numeric(12,2)");
            assertThat(orders.column("customer").orElseThrow().nullable()).isFalse();

            TableInfo items = in.describe(c, new TableRef("public", "items")).orElseThrow();
            assertThat(items.chunkKey().orElseThrow().columns()).containsExactly("order_id", "line");
            assertThat(items.estimatedRows()).isEqualTo(100);

            TableInfo byCode = in.describe(c, new TableRef("public", "by_code")).orElseThrow();
            assertThat(byCode.primaryKey()).isNull();
            assertThat(byCode.uniqueKeys()).as("the nullable unique key on nick does not count")
                    .containsExactly(new KeyInfo("by_code_code_key", List.of("code"), false));

            assertThat(in.describe(c, new TableRef("public", "partial_only")).orElseThrow().chunkKey())
                    .as("a partial unique index does not identify rows").isEmpty();
            assertThat(in.describe(c, new TableRef("public", "serials")).orElseThrow().column("id").orElseThrow()
                    .identity()).isTrue();
            assertThat(in.describe(c, new TableRef("public", "nope"))).isEmpty();
        }
    }

    @Test
    void passesALeastPrivilegeSourceThatHasWhatLogicalReplicationNeeds() {
        PlanReport r = plan("good", "good-pw", "scope: {tables: [orders, items]}\nschema: existing\n");
        assertThat(r.source().findings()).filteredOn(Finding::isError).isEmpty();
        assertThat(r.source().findings()).extracting(Finding::check).contains("connect", "wal_level",
                "replication_privilege", "replication_slots", "wal_senders", "publication", "select_privilege");
        assertThat(r.source().changeLogPosition()).matches("[0-9A-F]+/[0-9A-F]+");
    }

    @Test
    void namesEachMissingPrivilegeWithTheExactGrant() {
        PlanReport r = plan("weak", "weak-pw", "scope: {tables: [orders, items]}\n");
        assertThat(errors(r.source().findings())).containsExactlyInAnyOrder(
                "select_privilege: user weak cannot read public.items -> GRANT SELECT ON public.items TO weak;",
                "replication_privilege: user weak may not stream changes: it has neither REPLICATION nor SUPERUSER "
                        + "-> ALTER ROLE weak WITH REPLICATION;  (on Amazon RDS / Aurora: GRANT rds_replication TO weak;)",
                "publication: user weak may not create the publication " + Streams.name("pg-test",
                        StreamDirection.FORWARD) + " in database tandem "
                        + "-> GRANT CREATE ON DATABASE tandem TO weak;",
                "publication: adding table public.orders to the publication needs its owner's rights; it is owned by "
                        + "app -> GRANT app TO weak;",
                "publication: adding table public.items to the publication needs its owner's rights; it is owned by "
                        + "app -> GRANT app TO weak;");
    }

    @Test
    void refusesATableWithoutAKeyAndOneWithoutAReplicaIdentity() {
        PlanReport r = plan("good", "good-pw", "scope: {tables: [partial_only, by_code]}\n");
        assertThat(errors(r.source().findings())).containsExactlyInAnyOrder(
                "primary_key: table public.partial_only has no primary key and no unique key on NOT NULL columns, so "
                        + "its rows cannot be copied in chunks or matched to changes -> add one (ALTER TABLE "
                        + "public.partial_only ADD PRIMARY KEY (...)), or leave the table out with scope.exclude: "
                        + "[public.partial_only]",
                "replica_identity: table public.partial_only has no replica identity: once published, UPDATE and "
                        + "DELETE on it would fail -> add a primary key",
                "replica_identity: table public.by_code has no replica identity: once published, UPDATE and DELETE "
                        + "on it would fail -> ALTER TABLE public.by_code REPLICA IDENTITY USING INDEX by_code_code_key;");
        assertThat(r.tables()).filteredOn(t -> t.table().equals("public.partial_only")).singleElement()
                .satisfies(t -> assertThat(t.targetAction()).isEqualTo("blocked"));
    }

    @Test
    void checksWhatTheTargetCanTake() {
        PlanReport create = plan("good", "good-pw", "scope: {tables: [orders, items, serials, notes]}\nschema: create\n");
        assertThat(errors(create.target().findings())).containsExactlyInAnyOrder(
                "target_table_not_empty: table public.items exists on the target and has rows; schema: create never "
                        + "overwrites a table -> empty it (TRUNCATE public.items;), drop it, or set schema: existing "
                        + "to load into it",
                "target_key: target table public.serials has no primary or unique key on (id), the source's key "
                        + "-> ALTER TABLE public.serials ADD PRIMARY KEY (id);",
                "create_privilege: user loader may not create tables in schema public "
                        + "-> GRANT CREATE ON SCHEMA public TO loader;");
        assertThat(create.target().findings()).filteredOn(f -> f.check().equals("session_replication_role"))
                .singleElement().satisfies(f -> {
                    assertThat(f.severity()).isEqualTo(Finding.Severity.WARNING);
                    assertThat(f.fix()).isEqualTo("GRANT SET ON PARAMETER session_replication_role TO loader;");
                });
        assertThat(create.tables()).extracting(t -> t.table() + " " + t.targetAction()).containsExactly(
                "public.items blocked", "public.notes use existing (empty)", "public.orders create",
                "public.serials blocked");

        PlanReport existing = plan("good", "good-pw", "scope: {tables: [orders, items]}\nschema: existing\n");
        assertThat(errors(existing.target().findings())).containsExactly(
                "target_table_missing: table public.orders does not exist on the target, and schema: existing does "
                        + "not create it -> create it, or set schema: create");
        assertThat(existing.failure()).isEqualTo(dev.tandem.core.error.ErrorCode.TARGET);
    }

    @Test
    void reportsAWrongPasswordAndAnUnreachableServerAsConnectionProblems() {
        PlanReport wrong = plan("good", "not-the-password", "scope: {tables: [orders]}\n");
        assertThat(wrong.source().findings()).singleElement().satisfies(f -> {
            assertThat(f.check()).isEqualTo("credentials");
            assertThat(f.message()).doesNotContain("not-the-password");
            assertThat(f.fix()).isEqualTo("check source.user and source.password");
        });
        Manifest m = manifest("jdbc:postgresql://127.0.0.1:1/tandem", "good", "good-pw", "");
        PlanReport down = new Planner(ConnectorRegistry.load()).plan(m);
        assertThat(down.source().findings()).singleElement().satisfies(f -> {
            assertThat(f.check()).isEqualTo("connect");
            assertThat(f.message()).startsWith("cannot connect to jdbc:postgresql://127.0.0.1:1/tandem: ");
        });
    }

    private static List<String> errors(List<Finding> findings) {
        return findings.stream().filter(Finding::isError).map(f -> f.check() + ": " + f.message() + " -> " + f.fix())
                .toList();
    }

    private static PlanReport plan(String user, String password, String extra) {
        return new Planner(ConnectorRegistry.load()).plan(manifest(SOURCE.server().jdbcUrl(), user, password, extra));
    }

    private static Manifest manifest(String sourceUrl, String user, String password, String extra) {
        EmbeddedPostgres target = TARGET.server();
        String yaml = "id: pg-test\n"
                + "source: {url: '" + sourceUrl + "', user: " + user + ", password: ${env:SRC}}\n"
                + "target: {url: '" + target.jdbcUrl() + "', user: loader, password: ${env:DST}}\n" + extra;
        return new ManifestReader(Map.of("SRC", password, "DST", "loader-pw")::get).read(yaml, "test", ManifestReader.Purpose.RUN);
    }
}
