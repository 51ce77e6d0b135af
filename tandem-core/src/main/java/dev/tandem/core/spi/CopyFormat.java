package dev.tandem.core.spi;

/** The bulk formats a chunk can travel in between a {@link ChunkReader} and a {@link ChunkWriter}. */
public enum CopyFormat {
    /** PostgreSQL's binary COPY: fastest; needs identical column types on both sides. */
    POSTGRES_BINARY,
    /** PostgreSQL's text COPY: works whenever the target type accepts the source type's text. */
    POSTGRES_TEXT,
    /**
     * MySQL's {@code LOAD DATA} text (tab-separated, {@code \N} for NULL, backslash escapes {@code \\}, {@code \t},
     * {@code \n}, {@code \r}, {@code \0}), each value as the server prints it, binary strings as hex digits and BIT
     * values as numbers (the loader turns them back): between MySQL / MariaDB endpoints.
     */
    MYSQL_TEXT
}
