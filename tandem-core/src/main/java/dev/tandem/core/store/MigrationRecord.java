package dev.tandem.core.store;

import dev.tandem.core.lifecycle.Status;
import java.time.Instant;
import java.util.UUID;

/**
 * A migration as stored: its manifest document as written (JSON) and where it is in the lifecycle.
 *
 * @param version incremented by every change; the compare-and-set token
 */
public record MigrationRecord(String id, UUID uuid, String description, String manifest, Status status, long version,
                              Instant createdAt, Instant updatedAt) {
}
