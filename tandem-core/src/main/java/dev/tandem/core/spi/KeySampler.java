package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * What the chunk planner asks of the source to split a table on its key. Values are key tuples in the database's
 * text form; every ordering is done by the database.
 */
public interface KeySampler {

    /** The smallest and largest key in {@code within} (null: the whole table), or empty when there is no row. */
    Optional<List<List<String>>> bounds(Connection connection, TableInfo table, List<KeyColumn> key, KeyRange within)
            throws SQLException;

    /**
     * The table's row count, from statistics (estimated cheaply when they are missing); with {@code within}, the
     * rows in that range, counted.
     */
    long estimateRows(Connection connection, TableInfo table, List<KeyColumn> key, KeyRange within)
            throws SQLException;

    /**
     * About {@code wanted} keys spread over the table (within the range), ordered by the key in the database. May
     * return fewer (small tables) or none (empty ones).
     */
    List<List<String>> sample(Connection connection, TableInfo table, List<KeyColumn> key, KeyRange within,
                              long estimatedRows, int wanted) throws SQLException;
}
