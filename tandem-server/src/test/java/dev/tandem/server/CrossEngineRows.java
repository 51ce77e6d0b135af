package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A MySQL/MariaDB table and its PostgreSQL copy (schema {@code tandem}) compared row by row by the tests alone, not
 * by anything Tandem computes: both sides streamed in the same key order (text keys by their UTF-8 bytes, which both
 * engines order alike), each column asked for in a form both engines print alike, floats, doubles and JSON compared
 * as values. A row only on one side counts as differing.
 */
final class CrossEngineRows {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private CrossEngineRows() {
    }

    /** How a column is compared: text both engines print alike, or a value read by JDBC. */
    enum As { TEXT, FLOAT, DOUBLE, JSON }

    /** One compared column: its expression on MariaDB, on PostgreSQL, and how the two are held side by side. */
    record Col(String maria, String pg, As as) {
        static Col same(String name) {
            return new Col(name, name, As.TEXT);
        }
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
        try (Statement st = t.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM tandem."
                + table)) {
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
        String filter = where == null ? "" : " WHERE " + where;
        String ms = "SELECT " + String.join(", ", cols.stream().map(Col::maria).toList()) + " FROM " + table + filter
                + " ORDER BY " + mariaOrder;
        String ps = "SELECT " + String.join(", ", cols.stream().map(Col::pg).toList()) + " FROM tandem." + table
                + filter + " ORDER BY " + pgOrder;
        boolean auto = t.getAutoCommit();
        t.setAutoCommit(false);
        long differing = 0;
        List<String> samples = new ArrayList<>();
        try (Statement sm = s.createStatement(); Statement sp = t.createStatement()) {
            sm.setFetchSize(500);
            sp.setFetchSize(500);
            try (ResultSet a = sm.executeQuery(ms); ResultSet b = sp.executeQuery(ps)) {
                boolean ha = a.next();
                boolean hb = b.next();
                while (ha || hb) {
                    List<String> ra = ha ? row(a, cols) : null;
                    List<String> rb = hb ? row(b, cols) : null;
                    if (ra == null || !ra.equals(rb)) {
                        differing++;
                        if (samples.size() < 5) {
                            samples.add(shorten(ra) + " | " + shorten(rb));
                        }
                    }
                    ha = ha && a.next();
                    hb = hb && b.next();
                }
            }
        } finally {
            t.commit();
            t.setAutoCommit(auto);
        }
        if (differing > 0) {
            System.out.println(table + " differs (source | target):\n  " + String.join("\n  ", samples));
        }
        return differing;
    }

    private static List<String> row(ResultSet rs, List<Col> cols) throws Exception {
        List<String> out = new ArrayList<>(cols.size());
        for (int i = 1; i <= cols.size(); i++) {
            String v = switch (cols.get(i - 1).as()) {
                case TEXT -> rs.getString(i);
                case FLOAT -> rs.getObject(i) == null ? null : Float.toString((float) rs.getDouble(i));
                case DOUBLE -> rs.getObject(i) == null ? null : Double.toString(rs.getDouble(i));
                case JSON -> rs.getString(i) == null ? null
                        : JSON.writeValueAsString(JSON.treeToValue(JSON.readTree(rs.getString(i)), Object.class));
            };
            out.add(v);
        }
        return out;
    }

    private static String shorten(List<String> row) {
        String s = String.valueOf(row);
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }
}
