package dev.tandem.core.manifest;

/**
 * {@code data:} how existing rows are moved (seed 002). {@code "none"} or
 * {@code {type: snapshot|scan, replace: none|replace|merge, chunk_rows, parallelism, rows_per_second}}.
 *
 * @param rowsPerSecond copy throttle across all workers; 0 means unlimited
 */
public record DataMovement(Type type, Replace replace, int chunkRows, int parallelism, long rowsPerSecond) {
    public static final int DEFAULT_CHUNK_ROWS = 50_000;
    public static final int DEFAULT_PARALLELISM = 4;

    public static final DataMovement DEFAULT = new DataMovement(Type.SCAN, Replace.REPLACE, DEFAULT_CHUNK_ROWS,
            DEFAULT_PARALLELISM, 0);
    public static final DataMovement NONE = new DataMovement(Type.NONE, Replace.REPLACE, DEFAULT_CHUNK_ROWS,
            DEFAULT_PARALLELISM, 0);

    public enum Type {
        /** No automatic data transfer (target already has the data, or starts empty). */
        NONE,
        /** One consistent point-in-time copy of every table. */
        SNAPSHOT,
        /** Chunked copy while the change stream runs (DESIGN.md correctness points 1-3). */
        SCAN
    }

    /** Seed 002's conflict rules for rows that already exist on the target. */
    public enum Replace {
        /** Skip rows whose key exists on the target. */
        NONE,
        /** Overwrite target rows with the source's. */
        REPLACE,
        /** Update only the columns the source has, keeping target-only columns. */
        MERGE
    }

    public boolean moves() {
        return type != Type.NONE;
    }
}
