package dev.tandem.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A MySQL/MariaDB table and its PostgreSQL copy compared row by row, independently of anything Tandem computes (the
 * cross-engine counterpart of {@link TableComparison}): both sides streamed in the same key order (text keys by their
 * UTF-8 bytes, which both engines order alike, when the caller orders them so), each column asked for in a form both
 * engines print alike, floats, doubles and JSON compared as values. A row only on one side counts as differing; no
 * table is held in memory.
 */
public final class CrossEngineComparison {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private CrossEngineComparison() {
    }

    /** How a column is compared: text both engines print alike, or a value read by JDBC. */
    public enum As { TEXT, FLOAT, DOUBLE, JSON }

    /** One compared column: its expression on MySQL/MariaDB, on PostgreSQL, and how the two are held side by side. */
    public record Col(String maria, String pg, As as) {
        public static Col same(String name) {
            return new Col(name, name, As.TEXT);
        }
    }

    /**
     * @param mysql      the MySQL/MariaDB side, its database the table's
     * @param postgres   the PostgreSQL side
     * @param table      the table's name on both sides
     * @param pgSchema   the PostgreSQL schema that holds it (the MySQL database's name, as migrations map it)
     * @param where      SQL both engines accept to restrict both sides, or null for all rows
     * @param mariaOrder the key order on MySQL/MariaDB, as SQL
     * @param pgOrder    the same order on PostgreSQL, as SQL
     */
    public static TableComparison.Result compare(Connection mysql, Connection postgres, String table, String pgSchema,
                                                 String where, String mariaOrder, String pgOrder, List<Col> cols)
            throws SQLException {
        String filter = where == null ? "" : " WHERE " + where;
        String ms = "SELECT " + String.join(", ", cols.stream().map(Col::maria).toList()) + " FROM " + table + filter
                + " ORDER BY " + mariaOrder;
        String ps = "SELECT " + String.join(", ", cols.stream().map(Col::pg).toList()) + " FROM " + pgSchema + "."
                + table + filter + " ORDER BY " + pgOrder;
        boolean auto = postgres.getAutoCommit();
        postgres.setAutoCommit(false); // a cursor: PostgreSQL streams only inside a transaction
        long sourceRows = 0;
        long targetRows = 0;
        long differing = 0;
        List<String> samples = new ArrayList<>();
        try (Statement sm = mysql.createStatement(); Statement sp = postgres.createStatement()) {
            sm.setFetchSize(500);
            sp.setFetchSize(500);
            try (ResultSet a = sm.executeQuery(ms); ResultSet b = sp.executeQuery(ps)) {
                boolean ha = a.next();
                boolean hb = b.next();
                while (ha || hb) {
                    List<String> ra = ha ? row(a, cols) : null;
                    List<String> rb = hb ? row(b, cols) : null;
                    sourceRows += ha ? 1 : 0;
                    targetRows += hb ? 1 : 0;
                    if (ra == null || !ra.equals(rb)) {
                        differing++;
                        if (samples.size() < 5) {
                            samples.add("source " + shorten(ra) + " | target " + shorten(rb));
                        }
                    }
                    ha = ha && a.next();
                    hb = hb && b.next();
                }
            }
        } finally {
            postgres.commit();
            postgres.setAutoCommit(auto);
        }
        return new TableComparison.Result(table, sourceRows, targetRows, differing, samples);
    }

    private static List<String> row(ResultSet rs, List<Col> cols) throws SQLException {
        List<String> out = new ArrayList<>(cols.size());
        for (int i = 1; i <= cols.size(); i++) {
            String v = switch (cols.get(i - 1).as()) {
                case TEXT -> rs.getString(i);
                case FLOAT -> rs.getObject(i) == null ? null : Float.toString((float) rs.getDouble(i));
                case DOUBLE -> rs.getObject(i) == null ? null : Double.toString(rs.getDouble(i));
                case JSON -> json(rs.getString(i));
            };
            out.add(v);
        }
        return out;
    }

    private static String json(String text) {
        if (text == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(JSON.treeToValue(JSON.readTree(text), Object.class));
        } catch (JsonProcessingException e) {
            return "not JSON: " + text;
        }
    }

    private static String shorten(List<String> row) {
        String s = String.valueOf(row);
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }
}
