package dev.tandem.core.spi;

import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;

/** Streams one key range of a table out of the source, without holding rows in memory. */
public interface ChunkReader {

    /**
     * Writes every row of {@code table} in {@code range} to {@code out} in the connector's bulk format (COPY for
     * PostgreSQL) and returns the number of rows. Called by a backfill worker on its own connection, inside the
     * transaction whose snapshot the chunk is read at; an exception fails this attempt of the chunk only, which is
     * retried per {@code failure_handling}.
     */
    long read(Connection connection, TableInfo table, KeyRange range, OutputStream out) throws SQLException, IOException;
}
