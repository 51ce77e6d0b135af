package dev.tandem.core.spi;

import java.sql.SQLException;

/**
 * The rows of one chunk as a stream of blocks in one {@link CopyFormat}, pulled by the writer on the same thread as
 * the reader produces them: no row is held beyond the block in hand.
 */
public interface BlockStream extends AutoCloseable {

    /** The next block of bytes, or null at the end. */
    byte[] next() throws SQLException;

    /** Rows read so far (the total once {@link #next()} returned null). */
    long rows();

    /** Bytes read so far. */
    long bytes();

    /** Ends the read early (cancelling it on the server) when the copy failed or was stopped. */
    @Override
    void close() throws SQLException;
}
