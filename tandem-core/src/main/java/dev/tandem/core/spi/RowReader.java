package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * Reading rows as JDBC values, for comparing two different engines (verify across engines, where no database can
 * hash the other's rows the same way): Tandem encodes the values itself
 * ({@link dev.tandem.core.verify.CanonicalChecksums}). Implementations set their session so that values come back
 * in UTC; they never sort (comparison is order-independent) and never hold a range in memory.
 */
public interface RowReader {

    /**
     * Streams the rows of {@code range} to {@code sink}, the given columns in order (column 1 of the result is the
     * first of {@code columns}); called once per chunk, so it may run for seconds. An error is the side's failure.
     */
    void rows(Connection connection, TableInfo table, List<String> columns, KeyRange range, RowSink sink)
            throws SQLException;

    /**
     * The rows with these keys (key values in text, in key-column order; at most a few hundred per call, one round
     * trip). A key with no row gives nothing.
     */
    void rowsByKey(Connection connection, TableInfo table, List<String> columns, List<List<String>> keys,
                   RowSink sink) throws SQLException;

    /** Receives each row; the result set is positioned on it and must not be advanced. */
    interface RowSink {
        void accept(ResultSet row) throws SQLException;
    }
}
