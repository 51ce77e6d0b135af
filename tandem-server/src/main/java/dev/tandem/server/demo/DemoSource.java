package dev.tandem.server.demo;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.testkit.CrossEngineComparison;
import dev.tandem.testkit.CrossEngineComparison.As;
import dev.tandem.testkit.CrossEngineComparison.Col;
import dev.tandem.testkit.EmbeddedDatabase;
import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * The demo's source database, PostgreSQL (the default) or MariaDB ({@code tandem demo --source mariadb}); the target
 * is always an embedded PostgreSQL. Each knows its shop, how the migration reads it (the manifest's parts that differ),
 * how the shop's application talks to it, and how one of its tables is compared with the target's copy row by row —
 * independently of anything Tandem computes.
 */
sealed interface DemoSource extends AutoCloseable {
    /** The engine, as the demo says it ("PostgreSQL", "MariaDB"). */
    String engine();

    /** The embedded server. */
    EmbeddedDatabase db();

    default String jdbcUrl() {
        return db().jdbcUrl();
    }

    default int port() {
        return db().port();
    }

    /** Creates the shop and the least-privilege migration user; {@code scale} 1 is about 22,000 rows. */
    void populate(int scale, String migratorPassword);

    /** Exact row counts per table of the shop. */
    Map<String, Long> rowCounts();

    /** The tables in scope, as the manifest names them. */
    List<String> scope();

    /** {@code cdc.method} for this source. */
    String cdcMethod();

    /** The schema on the target that holds the copied tables. */
    String targetSchema();

    /** The SQL cast the shop's application writes an order's status with ({@code ::order_status}, or none). */
    String statusCast();

    /** A connection as the database's owner. */
    default Connection connect() throws SQLException {
        return db().connect();
    }

    /** The shop application's own pool on this database (as its owner: it owns its data). */
    HikariDataSource appPool();

    /**
     * {@code table} (unqualified, e.g. {@code orders}) here and on the target ({@code target}, a connection to the
     * target database), row by row in key order, restricted by {@code where} (SQL both engines accept) or not.
     */
    TableComparison.Result compare(Connection source, Connection target, String table, String where)
            throws SQLException;

    @Override
    default void close() {
        db().close();
    }

    static DemoSource start(String engine) {
        return switch (engine) {
            case "mariadb" -> new MariaDb(EmbeddedMariaDb.builder().database(DemoShop.DATABASE).start());
            default -> new Postgres(EmbeddedPostgres.builder().database(DemoShop.DATABASE).start());
        };
    }

    /** A pool of four connections. */
    private static HikariDataSource pool(String url, String user, String password, int port) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url);
        c.setUsername(user);
        c.setPassword(password);
        c.setMaximumPoolSize(4);
        c.setPoolName("shop-" + port);
        return new HikariDataSource(c);
    }

    /** The pool of the shop's application on the target PostgreSQL, in the schema the copied tables live in. */
    static HikariDataSource targetPool(EmbeddedPostgres target, String schema) {
        return pool(target.jdbcUrl() + (schema.equals("public") ? "" : "?currentSchema=" + schema),
                EmbeddedPostgres.SUPERUSER, target.superuserPassword(), target.port());
    }

    /** PostgreSQL → PostgreSQL: logical replication, every row compared as PostgreSQL's text of the whole row. */
    record Postgres(EmbeddedPostgres db) implements DemoSource {
        @Override
        public String engine() {
            return "PostgreSQL";
        }

        @Override
        public void populate(int scale, String migratorPassword) {
            DemoShop.populateSource(db, scale, migratorPassword);
        }

        @Override
        public Map<String, Long> rowCounts() {
            return DemoShop.rowCounts(this, "public.");
        }

        @Override
        public List<String> scope() {
            return DemoShop.KEYS.keySet().stream().map(t -> "public." + t).toList();
        }

        @Override
        public String cdcMethod() {
            return "logical_replication";
        }

        @Override
        public String targetSchema() {
            return "public";
        }

        @Override
        public String statusCast() {
            return "::order_status";
        }


        @Override
        public HikariDataSource appPool() {
            return pool(db.jdbcUrl(), EmbeddedPostgres.SUPERUSER, db.superuserPassword(), db.port());
        }

        @Override
        public TableComparison.Result compare(Connection source, Connection target, String table, String where)
                throws SQLException {
            return TableComparison.compare(source, target, "public." + table, DemoShop.KEYS.get(table), where);
        }

    }

    /**
     * MariaDB → PostgreSQL: the binary log, the type mapping into the schema {@code shop}; each column compared in a
     * form both engines print alike.
     */
    record MariaDb(EmbeddedMariaDb db) implements DemoSource {
        private static final Map<String, List<Col>> COLUMNS = Map.of(
                "customers", List.of(Col.same("id"), Col.same("email"), Col.same("name"), Col.same("country"),
                        new Col("preferences", "preferences::text", As.JSON), at("created_at"), at("updated_at")),
                "products", List.of(Col.same("id"), Col.same("sku"), Col.same("title"), Col.same("price"),
                        new Col("CONCAT('{', tags, '}')", "tags::text", As.TEXT), new Col("HEX(image)", "upper(encode(image, 'hex'))", As.TEXT),
                        at("updated_at")),
                "orders", List.of(Col.same("id"), Col.same("customer_id"), Col.same("status"), Col.same("total"),
                        at("placed_at"), at("updated_at")),
                "order_items", List.of(Col.same("order_id"), Col.same("line_no"), Col.same("product_id"),
                        Col.same("quantity"), Col.same("unit_price")),
                "inventory", List.of(Col.same("sku"), Col.same("warehouse"), Col.same("quantity"),
                        at("last_updated")));

        /** A DATETIME(6) and the timestamp it maps to, both printed to the microsecond. */
        private static Col at(String column) {
            return new Col("DATE_FORMAT(" + column + ", '%Y-%m-%d %H:%i:%s.%f')", "to_char(" + column
                    + ", 'YYYY-MM-DD HH24:MI:SS.US')", As.TEXT);
        }

        @Override
        public String engine() {
            return "MariaDB";
        }

        @Override
        public void populate(int scale, String migratorPassword) {
            DemoShop.populateMariaDbSource(db, scale, migratorPassword);
        }

        @Override
        public Map<String, Long> rowCounts() {
            return DemoShop.rowCounts(this, "");
        }

        @Override
        public List<String> scope() {
            return DemoShop.KEYS.keySet().stream().map(t -> DemoShop.DATABASE + "." + t).toList();
        }

        @Override
        public String cdcMethod() {
            return "binlog";
        }

        @Override
        public String targetSchema() {
            return DemoShop.DATABASE;
        }

        @Override
        public String statusCast() {
            return "";
        }


        @Override
        public HikariDataSource appPool() {
            return pool(db.jdbcUrl(), EmbeddedMariaDb.ROOT, "", db.port());
        }

        @Override
        public TableComparison.Result compare(Connection source, Connection target, String table, String where)
                throws SQLException {
            String order = DemoShop.KEYS.get(table);
            // the text key (inventory.sku) by its bytes, which both engines order alike
            String maria = order.equals("sku") ? "CAST(sku AS BINARY)" : order;
            String pg = order.equals("sku") ? "convert_to(sku, 'UTF8')" : order;
            return CrossEngineComparison.compare(source, target, table, DemoShop.DATABASE, where, maria, pg,
                    COLUMNS.get(table));
        }

    }
}
