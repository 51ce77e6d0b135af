package dev.tandem.postgres;

import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Row hashes computed by PostgreSQL: {@code hashtextextended(ROW(columns)::text, 0)}, a 64-bit hash of the row's
 * canonical text (every session sets the same TimeZone, DateStyle, IntervalStyle, extra_float_digits and
 * bytea_output, so equal values print equally on both sides). A range's checksum is the sum of its rows' hashes:
 * order-independent, computed in one scan without sorting.
 */
final class PostgresChecksums implements Checksums {
    private static final int FETCH = 10_000;
    /** Pages per step of a whole-table scan: 64 MB of 8 kB pages, a fraction of a second each. */
    static final long BLOCKS_PER_STEP = 8192;

    @Override
    public RangeChecksum checksum(Connection c, TableInfo table, List<String> columns, KeyRange range)
            throws SQLException {
        PgSession.configure(c);
        try (Statement st = c.createStatement()) {
            // A range of the key read through a bitmap of the key's index: pages in physical order, no per-row index
            // lookups (measured ~25 % less CPU than an index scan for 100,000-row chunks, see VerifyBench)
            st.execute("SET enable_indexscan = off");
            RangeChecksum sum;
            try (ResultSet rs = st.executeQuery("SELECT count(*), coalesce(sum(" + hash(columns) + "), 0)::text FROM "
                    + PgSql.table(table.ref()) + PgSql.where(range))) {
                rs.next();
                sum = new RangeChecksum(rs.getLong(1), rs.getString(2));
            }
            st.execute("RESET enable_indexscan");
            return sum;
        }
    }

    /**
     * TID range scans (PostgreSQL 14+) of {@link #BLOCKS_PER_STEP} pages at a time, up to the table's size when the
     * scan began (pages added later are read too: the last step is open-ended). The steps' sums are added in Java.
     */
    @Override
    public Optional<RangeChecksum> tableChecksum(Connection c, TableInfo table, List<String> columns)
            throws SQLException {
        if (c.getMetaData().getDatabaseMajorVersion() < 14) {
            return Optional.empty();
        }
        PgSession.configure(c);
        long pages;
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_relation_size(?::regclass) / "
                + "current_setting('block_size')::bigint")) {
            ps.setString(1, PgSql.table(table.ref()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                pages = rs.getLong(1);
            }
        }
        long rows = 0;
        BigInteger sum = BigInteger.ZERO;
        try (Statement st = c.createStatement()) {
            for (long from = 0; ; from += BLOCKS_PER_STEP) {
                boolean last = from + BLOCKS_PER_STEP >= pages;
                String where = " WHERE ctid >= '(" + from + ",0)'::tid"
                        + (last ? "" : " AND ctid < '(" + (from + BLOCKS_PER_STEP) + ",0)'::tid");
                try (ResultSet rs = st.executeQuery("SELECT count(*), coalesce(sum(" + hash(columns) + "), 0)::text "
                        + "FROM " + PgSql.table(table.ref()) + where)) {
                    rs.next();
                    rows += rs.getLong(1);
                    sum = sum.add(new BigInteger(rs.getString(2)));
                }
                if (last) {
                    break;
                }
            }
        }
        return Optional.of(new RangeChecksum(rows, sum.toString()));
    }

    @Override
    public void rowHashes(Connection c, TableInfo table, List<String> columns, KeyRange range, RowHashSink sink)
            throws SQLException {
        PgSession.configure(c);
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false); // a cursor: the range streams in FETCH rows at a time
        List<KeyColumn> key = table.keyColumns();
        try (Statement st = c.createStatement()) {
            st.setFetchSize(FETCH);
            try (ResultSet rs = st.executeQuery("SELECT " + keyText(key) + ", " + hash(columns) + " FROM "
                    + PgSql.table(table.ref()) + PgSql.where(range))) {
                while (rs.next()) {
                    String[] k = new String[key.size()];
                    for (int i = 0; i < k.length; i++) {
                        k[i] = rs.getString(i + 1);
                    }
                    sink.accept(Arrays.asList(k), rs.getLong(key.size() + 1));
                }
            }
        } finally {
            c.commit();
            c.setAutoCommit(auto);
        }
    }

    @Override
    public void hashesOf(Connection c, TableInfo table, List<String> columns, List<List<String>> keys,
                         RowHashSink sink) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        PgSession.configure(c);
        List<KeyColumn> key = table.keyColumns();
        String in = keys.stream().map(k -> PgSql.values(key, k)).collect(Collectors.joining(", "));
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + keyText(key) + ", " + hash(columns) + " FROM "
                     + PgSql.table(table.ref()) + " WHERE " + PgSql.tuple(key) + " IN (" + in + ")")) {
            while (rs.next()) {
                String[] k = new String[key.size()];
                for (int i = 0; i < k.length; i++) {
                    k[i] = rs.getString(i + 1);
                }
                sink.accept(Arrays.asList(k), rs.getLong(key.size() + 1));
            }
        }
    }

    @Override
    public Optional<Row> row(Connection c, TableInfo table, List<String> columns, List<String> key)
            throws SQLException {
        PgSession.configure(c);
        List<KeyColumn> keyColumns = table.keyColumns();
        String where = PgSql.tuple(keyColumns) + " = " + PgSql.values(keyColumns, key);
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + hash(columns) + ", " + columns.stream()
                     .map(col -> PgIdent.quote(col) + "::text").collect(Collectors.joining(", ")) + " FROM "
                     + PgSql.table(table.ref()) + " WHERE " + where)) {
            if (!rs.next()) {
                return Optional.empty();
            }
            List<String> values = new ArrayList<>(columns.size());
            for (int i = 0; i < columns.size(); i++) {
                values.add(rs.getString(i + 2));
            }
            return Optional.of(new Row(rs.getLong(1), values));
        }
    }

    private static String hash(List<String> columns) {
        return "hashtextextended(ROW(" + PgSql.columns(columns) + ")::text, 0)";
    }

    private static String keyText(List<KeyColumn> key) {
        return key.stream().map(k -> PgIdent.quote(k.name()) + "::text").collect(Collectors.joining(", "));
    }
}
