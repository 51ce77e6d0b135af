package dev.tandem.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;

/**
 * What an operator asks of the process that holds a migration ({@code tandem stop} from another shell): one pending
 * request per migration, the newest wins. The holder polls and takes it.
 */
public final class Requests {
    public enum Kind {
        /** Finish the batch being applied, then exit. */
        STOP,
        /** Stop at once: the batch in flight rolls back (it is streamed again on restart). */
        STOP_IMMEDIATE,
        /** Run the cutover (freeze, sync, verify, sequences, reverse stream, flip). */
        CUTOVER,
        /** After a cutover: freeze the target's writes, let the reverse stream catch up, flip back to the source. */
        ROLLBACK,
        /** After a cutover: drop the streams, archive the audit, complete. */
        CLEANUP
    }

    private final ControlStore store;

    Requests(ControlStore store) {
        this.store = store;
    }

    public void request(String migrationId, Kind kind, String actor) {
        store.transaction("request " + kind + " of " + migrationId, c -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM tandem_requests WHERE migration_id = ?");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO tandem_requests (migration_id, request, "
                         + "requested_by, requested_at) VALUES (?, ?, ?, ?)")) {
                del.setString(1, migrationId);
                del.executeUpdate();
                ins.setString(1, migrationId);
                ins.setString(2, kind.name());
                ins.setString(3, actor);
                ins.setObject(4, ControlStore.ts(store.now()));
                ins.executeUpdate();
            }
            return null;
        });
        store.audit().record(migrationId, actor, "request_" + kind.name().toLowerCase(java.util.Locale.ROOT), null);
    }

    /**
     * Takes the pending request, if any (it is removed). Polled several times a second by the process holding the
     * migration, so the common case (nothing pending) is a read, and only a found request costs a durable write.
     */
    public Optional<Kind> take(String migrationId) {
        Optional<Kind> pending = store.read("read requests of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT request FROM tandem_requests WHERE migration_id = ?")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(Kind.valueOf(rs.getString(1))) : Optional.<Kind>empty();
                }
            }
        });
        if (pending.isEmpty()) {
            return pending;
        }
        // a newer request may have replaced it meanwhile: take exactly the one read, else nothing this turn
        boolean taken = store.transaction("take the request of " + migrationId, c -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM tandem_requests WHERE migration_id = ? "
                    + "AND request = ?")) {
                del.setString(1, migrationId);
                del.setString(2, pending.get().name());
                return del.executeUpdate() == 1;
            }
        });
        return taken ? pending : Optional.empty();
    }
}
