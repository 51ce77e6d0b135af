package dev.tandem.postgres;

import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.RowReader;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Collectors;

/** Rows as JDBC values (verify across engines): a cursor over the range, {@value #FETCH} rows per round trip. */
final class PostgresRowReader implements RowReader {
    private static final int FETCH = 5_000;

    @Override
    public void rows(Connection c, TableInfo table, List<String> columns, KeyRange range, RowSink sink)
            throws SQLException {
        PgSession.configure(c);
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false); // pgjdbc streams with a fetch size only inside a transaction
        try (Statement st = c.createStatement()) {
            st.setFetchSize(FETCH);
            try (ResultSet rs = st.executeQuery("SELECT " + PgSql.columns(columns) + " FROM "
                    + PgSql.table(table.ref()) + PgSql.where(range))) {
                while (rs.next()) {
                    sink.accept(rs);
                }
            }
        } finally {
            c.commit();
            c.setAutoCommit(auto);
        }
    }

    @Override
    public void rowsByKey(Connection c, TableInfo table, List<String> columns, List<List<String>> keys, RowSink sink)
            throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        PgSession.configure(c);
        List<KeyColumn> key = table.keyColumns();
        String in = keys.stream().map(k -> PgSql.values(key, k)).collect(Collectors.joining(", "));
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + PgSql.columns(columns) + " FROM " + PgSql.table(table.ref())
                     + " WHERE " + PgSql.tuple(key) + " IN (" + in + ")")) {
            while (rs.next()) {
                sink.accept(rs);
            }
        }
    }
}
