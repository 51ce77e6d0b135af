package dev.tandem.postgres;

import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
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

    @Override
    public RangeChecksum checksum(Connection c, TableInfo table, List<String> columns, KeyRange range)
            throws SQLException {
        PgSession.configure(c);
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), coalesce(sum(" + hash(columns) + "), 0)::text FROM "
                     + PgSql.table(table.ref()) + PgSql.where(range))) {
            rs.next();
            return new RangeChecksum(rs.getLong(1), rs.getString(2));
        }
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
