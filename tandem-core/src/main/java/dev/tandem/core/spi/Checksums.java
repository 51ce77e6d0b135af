package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Comparing data where it lives (verify, DESIGN.md correctness point 5): a count and an order-independent checksum
 * of a key range computed inside the database, the hash of every row of a range, and single rows. Both sides of a
 * same-engine pair compute these the same way, over the same columns, so equal rows give equal hashes.
 */
public interface Checksums {

    /** The range's row count and checksum (the sum of its rows' 64-bit hashes, as decimal text). */
    RangeChecksum checksum(Connection connection, TableInfo table, List<String> columns, KeyRange range)
            throws SQLException;

    /**
     * The whole table's row count and checksum read in physical order (the cheapest scan the database has), in
     * steps of bounded size so no single query runs long; empty when this database cannot read a table in physical
     * steps. Equal to {@link #checksum} over an unbounded range, whatever order the rows are stored in.
     */
    default Optional<RangeChecksum> tableChecksum(Connection connection, TableInfo table, List<String> columns)
            throws SQLException {
        return Optional.empty();
    }

    /** Streams every row of the range as its key values (text) and its 64-bit hash, in no particular order. */
    void rowHashes(Connection connection, TableInfo table, List<String> columns, KeyRange range, RowHashSink sink)
            throws SQLException;

    /**
     * The hashes of the rows with the given keys (point reads, one round trip per call; callers pass at most a few
     * hundred keys). A key with no row is not passed to {@code sink}.
     */
    void hashesOf(Connection connection, TableInfo table, List<String> columns, List<List<String>> keys,
                  RowHashSink sink) throws SQLException;

    /** One row by key: its hash and its values as text (null for SQL NULL), or empty when there is none. */
    Optional<Row> row(Connection connection, TableInfo table, List<String> columns, List<String> key)
            throws SQLException;

    /** A range's row count and checksum. */
    record RangeChecksum(long rows, String checksum) {
    }

    /**
     * One row: its hash and values, parallel to the columns asked for.
     *
     * @param values  as compared (normalised where the two sides print one value differently)
     * @param written as read, before that normalisation: what a repair writes, so the target gets the source's own
     *                value (a MySQL JSON text as it was, not re-serialised with its keys sorted)
     */
    record Row(long hash, List<String> values, List<String> written) {
        /** A row whose values are compared as they are read. */
        public Row(long hash, List<String> values) {
            this(hash, values, values);
        }
    }

    /** Receives row hashes. */
    interface RowHashSink {
        void accept(List<String> key, long hash) throws SQLException;
    }
}
