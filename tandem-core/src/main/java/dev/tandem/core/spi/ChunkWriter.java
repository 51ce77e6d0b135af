package dev.tandem.core.spi;

import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Loads one key range of a table into the target. The caller holds one target transaction around
 * {@link #deleteRange} and {@link #load}, so re-copying a chunk is idempotent (DESIGN.md correctness point 2).
 */
public interface ChunkWriter {

    /** Deletes the target's rows in {@code range}; returns how many. */
    long deleteRange(Connection connection, TableInfo table, KeyRange range) throws SQLException;

    /** Bulk-loads rows produced by the matching {@link ChunkReader}; returns the number of rows loaded. */
    long load(Connection connection, TableInfo table, InputStream in) throws SQLException, IOException;
}
