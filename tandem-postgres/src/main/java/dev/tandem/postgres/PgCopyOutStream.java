package dev.tandem.postgres;

import dev.tandem.core.spi.BlockStream;
import java.sql.SQLException;
import java.util.Arrays;
import org.postgresql.copy.CopyOut;

/**
 * A running {@code COPY ... TO STDOUT} as blocks of about 64 kB. The server sends one message per row; joining them
 * means the target receives a few large messages instead of many small ones. The COPY data stream is one byte
 * stream, so where a block ends does not matter.
 */
final class PgCopyOutStream implements BlockStream {
    static final int BLOCK_BYTES = 64 * 1024;

    private final CopyOut out;
    private byte[] buffer = new byte[BLOCK_BYTES * 2];
    private long messages;
    private long bytes;
    private boolean done;

    PgCopyOutStream(CopyOut out) {
        this.out = out;
    }

    @Override
    public byte[] next() throws SQLException {
        if (done) {
            return null;
        }
        int size = 0;
        while (size < BLOCK_BYTES) {
            byte[] message = out.readFromCopy();
            if (message == null) {
                done = true;
                break;
            }
            if (size + message.length > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, size + message.length));
            }
            System.arraycopy(message, 0, buffer, size, message.length);
            size += message.length;
            messages++;
        }
        bytes += size;
        return size == 0 ? null : Arrays.copyOf(buffer, size);
    }

    /** Exact once the copy ended (the server's row count); until then the messages seen, about one per row. */
    @Override
    public long rows() {
        return done ? out.getHandledRowCount() : messages;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() throws SQLException {
        if (!done && out.isActive()) {
            out.cancelCopy();
        }
    }
}
