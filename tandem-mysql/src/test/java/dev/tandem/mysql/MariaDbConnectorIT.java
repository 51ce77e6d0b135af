package dev.tandem.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.manifest.Secret;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedMariaDb;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Connector choice, introspection and preflight against real MariaDB with the binary log on. */
class MariaDbConnectorIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> SOURCE = DatabaseExtension.mariaDb();

    @BeforeAll
    static void schema() {
        SOURCE.server().execute(
                "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer varchar(100) NOT NULL, "
                        + "total decimal(12,2), doubled decimal(13,2) AS (total * 2) VIRTUAL)",
                "CREATE TABLE items (order_id bigint, line int, sku varchar(20), PRIMARY KEY (order_id, line))",
                "CREATE TABLE by_code (code varchar(20) NOT NULL, name varchar(50), UNIQUE KEY uk_code (code))",
                "CREATE TABLE prefix_only (body varchar(200) NOT NULL, UNIQUE KEY uk_body (body(10)))",
                "INSERT INTO items VALUES (1, 1, 'a'), (1, 2, 'b')",
                "CREATE TABLE lines_cascading (id int PRIMARY KEY, order_id bigint, CONSTRAINT fk_order FOREIGN KEY "
                        + "(order_id) REFERENCES orders (id) ON UPDATE CASCADE ON DELETE SET NULL)",
                "CREATE USER 'good'@'%' IDENTIFIED BY 'good-pw'",
                "GRANT SELECT ON tandem.* TO 'good'@'%'",
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'good'@'%'",
                "CREATE USER 'weak'@'%' IDENTIFIED BY 'weak-pw'",
                "GRANT SELECT ON tandem.orders TO 'weak'@'%'");
    }

    @Test
    void choosesTheMariaDbConnectorForAMysqlUrlThatReachesMariaDb() throws Exception {
        ConnectorRegistry registry = ConnectorRegistry.load();
        assertThat(registry.providers()).extracting(p -> p.name()).startsWith("mariadb");
        String mysqlUrl = SOURCE.server().jdbcUrl().replace("jdbc:mariadb:", "jdbc:mysql:");
        Connector c = registry.select(new Endpoint(mysqlUrl, "good", Secret.of("good-pw"), Map.of()), "source");
        assertThat(c.name()).isEqualTo("mariadb");
        try (Connection conn = c.connect()) {
            assertThat(c.serverInfo(conn).product()).isEqualTo("MariaDB");
            assertThat(c.changeLog().orElseThrow().currentPosition(conn)).matches("mysql-bin\\.\\d+:\\d+");
        }
    }

    @Test
    void describesColumnsAndKeys() throws Exception {
        MySqlIntrospector in = new MySqlIntrospector(Flavor.MARIADB);
        try (Connection c = SOURCE.server().connect()) {
            assertThat(in.defaultSchema(c)).isEqualTo("tandem");
            assertThat(in.listTables(c)).extracting(TableRef::name)
                    .containsExactly("by_code", "items", "lines_cascading", "orders", "prefix_only");
            TableInfo orders = in.describe(c, new TableRef("tandem", "orders")).orElseThrow();
            assertThat(orders.primaryKey()).isEqualTo(new KeyInfo("PRIMARY", List.of("id"), true));
            assertThat(orders.column("id").orElseThrow().identity()).isTrue();
            assertThat(orders.column("doubled").orElseThrow().generated()).isTrue();
            assertThat(orders.column("total").orElseThrow().nativeType()).isEqualTo("decimal(12,2)");
            assertThat(in.describe(c, new TableRef("tandem", "items")).orElseThrow().chunkKey().orElseThrow().columns())
                    .containsExactly("order_id", "line");
            assertThat(in.describe(c, new TableRef("tandem", "by_code")).orElseThrow().chunkKey())
                    .contains(new KeyInfo("uk_code", List.of("code"), false));
            assertThat(in.describe(c, new TableRef("tandem", "prefix_only")).orElseThrow().chunkKey())
                    .as("a prefix index does not identify rows").isEmpty();
        }
    }

    @Test
    void passesAUserWithSelectAndTheReplicationPrivileges() {
        PlanReport r = plan("good", "good-pw", "scope: {tables: [orders, items]}\n");
        assertThat(r.source().findings()).filteredOn(Finding::isError).filteredOn(f -> !f.check().equals("built"))
                .isEmpty();
        // every check of the source passes, and copy and binlog capture are built for it
        assertThat(r.source().findings()).filteredOn(f -> f.check().equals("built")).isEmpty();
        assertThat(r.source().connector()).isEqualTo("mariadb");
        assertThat(r.source().findings()).extracting(Finding::check).contains("log_bin", "binlog_format",
                "binlog_row_image", "replication_privilege", "select_privilege");
        assertThat(r.source().changeLogPosition()).startsWith("mysql-bin.");
    }

    @Test
    void namesTheMissingGrants() {
        PlanReport r = plan("weak", "weak-pw", "scope: {tables: [orders, items]}\n");
        assertThat(r.source().findings()).filteredOn(Finding::isError).filteredOn(f -> !f.check().equals("built"))
                .extracting(f -> f.message() + " -> " + f.fix())
                .containsExactlyInAnyOrder(
                        "scope.tables[1]: table tandem.items not found on source -> check the name, or grant the "
                                + "source user SELECT on it: this server lists only the tables a user has privileges on",
                        "user 'weak'@'%' lacks REPLICATION SLAVE and BINLOG MONITOR to read the binary log (privileges "
                                + "held through roles are not counted) -> GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* "
                                + "TO 'weak'@'%';");
    }

    /** InnoDB does not log the rows a cascading key changes: the child table is refused for the binlog stream. */
    @Test
    void refusesTheChildOfACascadingForeignKeyForTheBinlogStream() {
        PlanReport r = plan("good", "good-pw", "scope: {tables: [orders, lines_cascading]}\n");
        assertThat(r.source().findings()).filteredOn(f -> f.check().equals("binlog_cascade"))
                .extracting(f -> f.subject() + ": " + f.message()).containsExactly("tandem.lines_cascading: foreign "
                        + "key fk_order of tandem.lines_cascading has ON UPDATE CASCADE ON DELETE SET NULL: the rows "
                        + "InnoDB changes for it are not written to the binary log, so the stream would miss them and "
                        + "the target keep the old rows");
        assertThat(plan("good", "good-pw", "scope: {tables: [orders]}\n").source().findings())
                .as("the parent alone is fine").extracting(Finding::check).doesNotContain("binlog_cascade");
    }

    /** cdc.apply: source_transactions needs a target that records its position per transaction: refused by plan. */
    @Test
    void refusesSourceTransactionsIntoMariaDb() {
        PlanReport r = plan("good", "good-pw", "scope: {tables: [orders]}\ncdc: {method: binlog, apply: "
                + "source_transactions}\n");
        assertThat(r.target().findings()).filteredOn(f -> f.check().equals("built")).extracting(Finding::message)
                .anyMatch(m -> m.startsWith("cdc.apply: 'source_transactions' records on the target"));
    }

    private static PlanReport plan(String user, String password, String extra) {
        EmbeddedMariaDb db = SOURCE.server();
        String yaml = "id: mariadb-test\n"
                + "source: {url: '" + db.jdbcUrl() + "', user: " + user + ", password: ${env:PW}}\n"
                + "target: {url: '" + db.jdbcUrl("mysql") + "', user: root, password: ''}\n" + extra;
        return new Planner(ConnectorRegistry.load()).plan(new ManifestReader(Map.of("PW", password)::get)
                .read(yaml, "test", ManifestReader.Purpose.RUN));
    }
}
