package dev.tandem.core.backfill;

import java.sql.Connection;

/**
 * Where a change stream joins the copy (DESIGN.md correctness point 3). Called from the copy workers.
 */
public interface ChunkHooks {

    /** The chunk is STARTED in the store and its source snapshot is about to be taken. */
    default void beforeSnapshot(String table, int chunkNo) {
    }

    /**
     * The chunk's rows are read from the source and written to the target, not committed yet: a last check that
     * they may be (the stream's: the table's columns on the source are still the ones being copied). Called on the
     * worker's source connection. An exception fails the attempt like a copy error; nothing of it is committed.
     */
    default void beforeCommit(String table, int chunkNo, Connection source) throws Exception {
    }

    /**
     * The chunk's copy committed on {@code target}; it is not PASS yet. Replays the changes held back for it on
     * that connection (committing them) before returning. An exception fails the attempt like a copy error: the
     * chunk is copied again, and whatever this replayed is older than that new copy.
     */
    default void afterCommit(String table, int chunkNo, Connection target) throws Exception {
    }

    /** The table was given up under allow_partial. */
    default void tableFailed(String table) {
    }

    ChunkHooks NONE = new ChunkHooks() { };
}
