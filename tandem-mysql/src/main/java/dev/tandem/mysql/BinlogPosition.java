package dev.tandem.mysql;

/**
 * A point in the binary log, {@code file:offset} ({@code mysql-bin.000003:4567}), as {@code SHOW MASTER STATUS}
 * gives it and as positions are stored. Files are numbered in order by their suffix, so two positions compare by
 * file number, then offset.
 */
record BinlogPosition(String file, long offset) implements Comparable<BinlogPosition> {
    /** The size of a binlog file when nothing else is known ({@code max_binlog_size}'s default), for distances. */
    static final long FILE_SIZE = 1L << 30;

    static BinlogPosition parse(String text) {
        int colon = text == null ? -1 : text.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("not a binlog position (file:offset): " + text);
        }
        return new BinlogPosition(text.substring(0, colon), Long.parseLong(text.substring(colon + 1)));
    }

    /** The file's number: the digits after its last dot. */
    long fileNumber() {
        return Long.parseLong(file.substring(file.lastIndexOf('.') + 1));
    }

    /**
     * Bytes of log from this position to {@code to}; 0 when {@code to} is not after it. Across files the sizes of
     * the files between are not known here: each counts as {@link #FILE_SIZE}.
     */
    long distanceTo(BinlogPosition to) {
        if (to.compareTo(this) <= 0) {
            return 0;
        }
        long files = to.fileNumber() - fileNumber();
        return files == 0 ? to.offset - offset : files * FILE_SIZE - offset + to.offset;
    }

    @Override
    public int compareTo(BinlogPosition o) {
        int c = Long.compare(fileNumber(), o.fileNumber());
        return c != 0 ? c : Long.compare(offset, o.offset);
    }

    @Override
    public String toString() {
        return file + ":" + offset;
    }
}
