package dev.tandem.postgres;

import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Key bounds by index (ORDER BY key LIMIT 1, both ways) and samples ordered by the database: every n-th key of the
 * whole table when it is small enough to read through the key index, else a block sample (TABLESAMPLE SYSTEM).
 */
final class PostgresKeySampler implements KeySampler {
    /** Up to this many rows the sample is exact (every n-th key, read in key order); above, a block sample. */
    static final long EXACT_SAMPLE_MAX_ROWS = 200_000;

    @Override
    public Optional<List<List<String>>> bounds(Connection c, TableInfo table, List<KeyColumn> key, KeyRange within)
            throws SQLException {
        PgSession.configure(c);
        String base = "SELECT " + PgSql.columns(key.stream().map(KeyColumn::name).toList()) + " FROM "
                + PgSql.table(table.ref()) + where(within) + " ORDER BY ";
        List<String> min = first(c, base + PgSql.orderBy(key, false) + " LIMIT 1", key.size());
        if (min == null) {
            return Optional.empty();
        }
        List<String> max = first(c, base + PgSql.orderBy(key, true) + " LIMIT 1", key.size());
        return Optional.of(List.of(min, max == null ? min : max));
    }

    @Override
    public long estimateRows(Connection c, TableInfo table, List<KeyColumn> key, KeyRange within) throws SQLException {
        if (within != null) {
            PgSession.configure(c);
            return single(c, "SELECT count(*) FROM " + PgSql.table(table.ref()) + PgSql.where(within));
        }
        if (table.estimatedRows() >= 0) {
            return table.estimatedRows();
        }
        String t = PgSql.table(table.ref());
        if (table.estimatedBytes() < 256L * 1024 * 1024) {
            return single(c, "SELECT count(*) FROM " + t);
        }
        // Never analyzed and large: a 1% block sample, scaled up.
        return single(c, "SELECT count(*) * 100 FROM " + t + " TABLESAMPLE SYSTEM (1)");
    }

    @Override
    public List<List<String>> sample(Connection c, TableInfo table, List<KeyColumn> key, KeyRange within,
                                     long estimatedRows, int wanted) throws SQLException {
        PgSession.configure(c);
        String cols = PgSql.columns(key.stream().map(KeyColumn::name).toList());
        String t = PgSql.table(table.ref());
        String sql;
        if (estimatedRows <= EXACT_SAMPLE_MAX_ROWS) {
            long step = Math.max(1, estimatedRows / Math.max(1, wanted));
            sql = "SELECT " + cols + " FROM (SELECT " + cols + ", row_number() OVER (ORDER BY "
                    + PgSql.orderBy(key, false) + ") AS tandem_rn FROM " + t + where(within) + ") s WHERE tandem_rn % "
                    + step + " = 0 ORDER BY " + PgSql.orderBy(key, false);
        } else {
            double percent = Math.min(100.0, 100.0 * 2 * wanted / estimatedRows);
            sql = "SELECT " + cols + " FROM " + t + " TABLESAMPLE SYSTEM (" + String.format(Locale.ROOT, "%.6f", percent)
                    + ")" + where(within) + " ORDER BY " + PgSql.orderBy(key, false);
        }
        List<List<String>> out = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            st.setFetchSize(10_000);
            c.setAutoCommit(false); // a fetch size only streams inside a transaction
            try (ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    out.add(row(rs, key.size()));
                }
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        }
        return out;
    }

    private static String where(KeyRange within) {
        return within == null ? "" : PgSql.where(within);
    }

    private static List<String> first(Connection c, String sql, int n) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? row(rs, n) : null;
        }
    }

    private static List<String> row(ResultSet rs, int n) throws SQLException {
        List<String> out = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            out.add(rs.getString(i));
        }
        return out;
    }

    private static long single(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
