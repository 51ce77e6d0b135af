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
