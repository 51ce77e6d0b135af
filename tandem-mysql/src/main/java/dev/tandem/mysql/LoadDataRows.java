package dev.tandem.mysql;

import dev.tandem.core.spi.BlockStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link dev.tandem.core.spi.CopyFormat#MYSQL_TEXT} blocks read back: as the byte stream {@code LOAD DATA LOCAL}
 * sends ({@link #input}), or split into rows of field values for a loader that binds them ({@link #next}). Either
 * way a block at a time: a row may end in the next block, nothing more than a block and one row is held.
 */
final class LoadDataRows {
    private final BlockStream in;
    private byte[] block;
    private int at;
    private final ByteArrayOutputStream field = new ByteArrayOutputStream(256);
    private long rows;

    LoadDataRows(BlockStream in) {
        this.in = in;
    }

    /** Rows handed out by {@link #next}. */
    long rows() {
        return rows;
    }

    /** The next row's fields (null for {@code \N}), or null at the end. */
    List<String> next() throws SQLException {
        List<String> row = new ArrayList<>();
        boolean any = false;
        boolean escaped = false;
        boolean nullField = false;
        field.reset();
        while (true) {
            if (block == null || at == block.length) {
                block = in.next();
                at = 0;
                if (block == null) {
                    if (!any) {
                        return null;
                    }
                    throw new SQLException("a row of the chunk ended without its line end (" + row.size()
                            + " fields read)");
                }
                continue;
            }
            byte b = block[at++];
            any = true;
            if (escaped) {
                escaped = false;
                switch (b) {
                    case 'N' -> nullField = true;
                    case 't' -> field.write('\t');
                    case 'n' -> field.write('\n');
                    case 'r' -> field.write('\r');
                    case '0' -> field.write(0);
                    case 'Z' -> field.write(26);
                    case 'b' -> field.write('\b');
                    default -> field.write(b);
                }
            } else if (b == '\\') {
                escaped = true;
            } else if (b == '\t' || b == '\n') {
                row.add(nullField ? null : field.toString(StandardCharsets.UTF_8));
                field.reset();
                nullField = false;
                if (b == '\n') {
                    rows++;
                    return row;
                }
            } else {
                field.write(b);
            }
        }
    }

    /**
     * The blocks as one stream, for {@code LOAD DATA LOCAL INFILE}: the driver pulls it on the caller's thread while
     * the statement runs. A failure to read the source surfaces as an IOException to the driver and is kept here
     * ({@link #failure}), so the caller reports the source's error rather than the driver's.
     */
    static final class Input extends InputStream {
        private final BlockStream in;
        private byte[] block;
        private int at;
        private SQLException failure;
        private boolean done;

        Input(BlockStream in) {
            this.in = in;
        }

        SQLException failure() {
            return failure;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            while (block == null || at == block.length) {
                try {
                    block = in.next();
                } catch (SQLException e) {
                    failure = e;
                    throw new IOException("reading the source failed: " + e.getMessage(), e);
                }
                at = 0;
                if (block == null) {
                    done = true;
                    return -1;
                }
            }
            int n = Math.min(len, block.length - at);
            System.arraycopy(block, at, b, off, n);
            at += n;
            return n;
        }
    }
}
