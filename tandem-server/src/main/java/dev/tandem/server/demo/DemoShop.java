package dev.tandem.server.demo;

import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The demo's data: a small shop (customers, products, orders, order items, inventory) with identity, uuid, composite
 * and text keys, jsonb, arrays, an enum, bytea and numerics, owned by an application role — or, on MariaDB, the same
 * shop in MySQL types (AUTO_INCREMENT, json, enum, set, blob, datetime(6)); and a least-privilege migration user on each
 * side, created the way an operator would.
 */
public final class DemoShop {
    public static final String DATABASE = "shop";
    public static final String MIGRATOR = "tandem_migrator";
    /** Each table (unqualified) with its key, as an ORDER BY list, for the demo's row-for-row comparison. */
    public static final Map<String, String> KEYS = keys();

    private DemoShop() {
    }

    /** Creates the schema and rows on the source; {@code scale} 1 is about 22,000 rows. */
    public static void populateSource(EmbeddedPostgres source, int scale, String migratorPassword) {
        String sql = resource("shop.sql")
                .replace("{{customers}}", String.valueOf(1_000 * scale))
                .replace("{{products}}", String.valueOf(500 * scale))
                .replace("{{orders}}", String.valueOf(5_000 * scale));
        source.execute(sql,
                "CREATE ROLE " + MIGRATOR + " LOGIN REPLICATION PASSWORD '" + migratorPassword + "'",
                // A publication may only name tables whose owner's rights the user has.
                "GRANT shop_owner TO " + MIGRATOR,
                "GRANT CREATE ON DATABASE " + DATABASE + " TO " + MIGRATOR,
                // after the cutover the reverse stream applies the target's writes here, triggers off
                "GRANT SET ON PARAMETER session_replication_role TO " + MIGRATOR);
    }

    /**
     * The migration user on the target: may create tables in public and keep target triggers from firing; and,
     * for the reverse stream that keeps the source current after the cutover (a rollback loses nothing), may read
     * the target's change log (REPLICATION) and publish the tables it created (CREATE on the database).
     */
    public static void prepareTarget(EmbeddedPostgres target, String migratorPassword) {
        target.execute("CREATE ROLE " + MIGRATOR + " LOGIN REPLICATION PASSWORD '" + migratorPassword + "'",
                "GRANT CREATE ON SCHEMA public TO " + MIGRATOR,
                "GRANT CREATE ON DATABASE " + DATABASE + " TO " + MIGRATOR,
                "GRANT SET ON PARAMETER session_replication_role TO " + MIGRATOR);
    }

    /**
     * The shop on MariaDB, and the migration user with what a binlog migration into PostgreSQL needs: SELECT on the
     * shop, REPLICATION SLAVE and BINLOG MONITOR to read the binary log; and, for the reverse stream that keeps the
     * source current after the cutover (a rollback loses nothing), INSERT, UPDATE and DELETE on the shop.
     */
    public static void populateMariaDbSource(EmbeddedMariaDb source, int scale, String migratorPassword) {
        String sql = resource("shop-mariadb.sql")
                .replace("{{customers}}", String.valueOf(1_000 * scale))
                .replace("{{products}}", String.valueOf(500 * scale))
                .replace("{{orders}}", String.valueOf(5_000 * scale));
        List<String> statements = new ArrayList<>();
        for (String statement : sql.split(";\\s*\\n")) {
            String body = statement.lines().filter(l -> !l.startsWith("--")).collect(Collectors.joining("\n")).strip();
            if (!body.isEmpty()) {
                statements.add(body);
            }
        }
        statements.add("CREATE USER '" + MIGRATOR + "'@'%' IDENTIFIED BY '" + migratorPassword + "'");
        statements.add("GRANT SELECT, INSERT, UPDATE, DELETE ON " + DATABASE + ".* TO '" + MIGRATOR + "'@'%'");
        statements.add("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '" + MIGRATOR + "'@'%'");
        source.execute(statements.toArray(String[]::new));
    }

    /** Exact row counts per table of {@code db}, each named with {@code prefix} (e.g. {@code public.}). */
    static Map<String, Long> rowCounts(DemoSource db, String prefix) {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            for (String t : KEYS.keySet()) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + prefix + t)) {
                    rs.next();
                    out.put(t, rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot count the demo's rows: " + e.getMessage(), e);
        }
        return out;
    }

    private static Map<String, String> keys() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("customers", "id");
        m.put("products", "id");
        m.put("orders", "id");
        m.put("order_items", "order_id, line_no");
        m.put("inventory", "sku");
        return m;
    }

    private static String resource(String name) {
        try (InputStream in = DemoShop.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
