package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testkit.CrossEngineComparison;
import dev.tandem.testkit.CrossEngineComparison.Col;
import dev.tandem.testkit.TableComparison;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The tests' MariaDB → PostgreSQL comparisons ({@link CrossEngineComparison}) of a table the migrations put into the
 * PostgreSQL schema {@code tandem} (the testkit's MariaDB database).
 */
final class CrossEngineRows {
    private static final String SCHEMA = "tandem";

    private CrossEngineRows() {
    }

    static void assertEqual(Connection s, Connection t, String table, String mariaOrder, String pgOrder,
                            List<Col> cols, long rows) throws Exception {
        assertThat(differing(s, t, table, mariaOrder, pgOrder, cols)).as(table).isZero();
        assertThat(count(t, table)).as(table).isEqualTo(rows);
    }

    /** Equal, whatever the number of rows. */
    static void assertEqual(Connection s, Connection t, String table, String mariaOrder, String pgOrder,
                            List<Col> cols) throws Exception {
        assertThat(differing(s, t, table, mariaOrder, pgOrder, cols)).as(table).isZero();
    }

    static long count(Connection t, String table) throws SQLException {
        try (var st = t.createStatement(); var rs = st.executeQuery("SELECT count(*) FROM " + SCHEMA + "." + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Rows that differ; the first few are printed. */
    static long differing(Connection s, Connection t, String table, String mariaOrder, String pgOrder,
                          List<Col> cols) throws Exception {
        return differing(s, t, table, null, mariaOrder, pgOrder, cols);
    }

    /** The rows both engines select with {@code where} (SQL both accept, or null for all). */
    static long differing(Connection s, Connection t, String table, String where, String mariaOrder, String pgOrder,
                          List<Col> cols) throws Exception {
        TableComparison.Result r = CrossEngineComparison.compare(s, t, table, SCHEMA, where, mariaOrder, pgOrder, cols);
        if (r.differing() > 0) {
            System.out.println(r);
        }
        return r.differing();
    }
}
