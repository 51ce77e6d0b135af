package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Streams one key range of a table out of the source, without holding rows in memory. */
public interface ChunkReader {

    /** The formats this reader can produce for the table, best first. */
    List<CopyFormat> formats(TableInfo table);

    /**
     * Starts reading every row of {@code table} in {@code range}, only {@code columns}, in {@code format}. Called by a
     * backfill worker on its own connection; the read's snapshot is taken when this is called (the chunk is already
     * marked STARTED, DESIGN.md point 3). An exception fails this attempt of the chunk only; it is retried per
     * {@code failure_handling}.
     */
    BlockStream open(Connection connection, TableInfo table, List<String> columns, KeyRange range, CopyFormat format)
            throws SQLException;
}
