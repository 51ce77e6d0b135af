package dev.tandem.core.store;

import java.time.Instant;

/**
 * Where a change stream stands (DESIGN.md correctness points 1 and 4).
 *
 * @param stream    which of the migration's streams
 * @param kind      {@code lsn}, {@code binlog}, {@code gtid} or {@code timestamp}
 * @param start     P0: where the change log was opened before the first chunk was copied
 * @param confirmed the position up to which every change is committed on the other side (or safely dropped)
 * @param offsets   the connector's own resumable state, as JSON; may be null
 */
public record StreamPosition(String migrationId, StreamDirection stream, String kind, String start, String confirmed,
                             String offsets, Instant updatedAt) {
}
