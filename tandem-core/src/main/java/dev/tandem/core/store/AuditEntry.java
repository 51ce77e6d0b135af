package dev.tandem.core.store;

import dev.tandem.core.lifecycle.Status;
import java.time.Instant;

/** One line of a migration's audit log: who did what, and the status before and after (null when unchanged). */
public record AuditEntry(long id, String migrationId, Instant occurredAt, String actor, String action, Status from,
                         Status to, String detail) {
}
