package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;

/** Count and order-independent checksum of a key range, computed inside the database. */
public interface Checksums {

    /** The range's row count and checksum; both sides of a same-engine pair compute it the same way. */
    RangeChecksum checksum(Connection connection, TableInfo table, KeyRange range) throws SQLException;

    /** A range's row count and checksum. */
    record RangeChecksum(long rows, long checksum) {
    }
}
