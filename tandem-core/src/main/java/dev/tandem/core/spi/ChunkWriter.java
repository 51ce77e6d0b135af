package dev.tandem.core.spi;

import dev.tandem.core.manifest.DataMovement;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Loads one key range of a table into the target. The caller holds one target transaction around
 * {@link #prepare}, {@link #deleteRange} and {@link #load}, so re-copying a chunk is idempotent (DESIGN.md point 2).
 */
public interface ChunkWriter {

    /**
     * The formats this writer accepts for loading rows shaped like {@code source} into {@code target}, best first.
     * A binary format only when every column's type is the same on both sides.
     */
    List<CopyFormat> formats(TableInfo source, TableInfo target);

    /**
     * Sets up a connection for loading (e.g. target triggers off). Called once per connection; returns warnings to
     * report once (a setting that could not be applied), never throws for those.
     */
    List<String> prepare(Connection connection) throws SQLException;

    /** Deletes the target's rows in {@code range}; returns how many. Only for {@code replace: replace}. */
    long deleteRange(Connection connection, TableInfo target, KeyRange range) throws SQLException;

    /**
     * Loads the rows of {@code in} into {@code target}'s {@code columns}: appended for {@code replace} (after
     * {@link #deleteRange}), rows whose key exists skipped for {@code none}, those rows' source columns updated for
     * {@code merge}. Returns the rows loaded.
     */
    long load(Connection connection, TableInfo target, List<String> columns, CopyFormat format, BlockStream in,
              DataMovement.Replace mode) throws SQLException;
}
