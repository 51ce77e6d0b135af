package dev.tandem.core.spi;

/** The bulk formats a chunk can travel in between a {@link ChunkReader} and a {@link ChunkWriter}. */
public enum CopyFormat {
    /** PostgreSQL's binary COPY: fastest; needs identical column types on both sides. */
    POSTGRES_BINARY,
    /** PostgreSQL's text COPY: works whenever the target type accepts the source type's text. */
    POSTGRES_TEXT
}
