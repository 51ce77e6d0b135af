package dev.tandem.testkit;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Compares a table on two PostgreSQL databases row by row, independently of anything Tandem computes: each row as
 * PostgreSQL's own text of the whole row ({@code (row.*)::text}), both sides read in key order and streamed side by side,
 * so no table is held in memory. Tests use it as the last word on whether a copy is exact.
 */
public final class TableComparison {
    private TableComparison() {
    }

    /** What differed: row counts and the first few differing rows, as text. */
    public record Result(String table, long sourceRows, long targetRows, long differing, List<String> samples) {
        public boolean equal() {
            return differing == 0 && sourceRows == targetRows;
        }

        @Override
        public String toString() {
            return table + ": source " + sourceRows + " rows, target " + targetRows + " rows, " + differing
                    + " differing" + (samples.isEmpty() ? "" : "\n  " + String.join("\n  ", samples));
        }
    }

    /**
     * @param table   the table, as SQL ({@code public.orders})
     * @param orderBy its key columns, as SQL ({@code id} or {@code a, b})
     * @param where   a condition to restrict both sides, or null
     */
    public static Result compare(Connection source, Connection target, String table, String orderBy, String where)
            throws SQLException {
        // The row alias must not be a column name: for a table with a column t, "t::text" would be that column.
        String sql = "SELECT (tandem_cmp_row.*)::text FROM " + table + " tandem_cmp_row"
                + (where == null ? "" : " WHERE " + where) + " ORDER BY " + orderBy;
        try (Reader s = new Reader(source, sql); Reader t = new Reader(target, sql)) {
            long sourceRows = 0;
            long targetRows = 0;
            long differing = 0;
            List<String> samples = new ArrayList<>();
            String a = s.next();
            String b = t.next();
            while (a != null || b != null) {
                if (a != null) {
                    sourceRows++;
                }
                if (b != null) {
                    targetRows++;
                }
                if (!Objects.equals(a, b)) {
                    differing++;
                    if (samples.size() < 10) {
                        samples.add("source " + shorten(a) + " | target " + shorten(b));
                    }
                }
                a = s.next();
                b = t.next();
            }
            return new Result(table, sourceRows, targetRows, differing, samples);
        }
    }

    public static void assertEqual(Connection source, Connection target, String table, String orderBy)
            throws SQLException {
        Result r = compare(source, target, table, orderBy, null);
        if (!r.equal()) {
            throw new AssertionError("tables differ: " + r);
        }
    }

    private static String shorten(String s) {
        return s == null ? "(none)" : s.length() > 200 ? s.substring(0, 197) + "..." : s;
    }

    /** One side, streamed with a cursor. */
    private static final class Reader implements AutoCloseable {
        private final Connection c;
        private final boolean autoCommit;
        private final Statement st;
        private final ResultSet rs;

        Reader(Connection c, String sql) throws SQLException {
            this.c = c;
            this.autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            st = c.createStatement();
            st.execute("SET LOCAL TimeZone = 'UTC'");
            st.setFetchSize(5_000);
            rs = st.executeQuery(sql);
        }

        String next() throws SQLException {
            return rs.next() ? rs.getString(1) : null;
        }

        @Override
        public void close() throws SQLException {
            rs.close();
            st.close();
            c.rollback();
            c.setAutoCommit(autoCommit);
        }
    }
}
