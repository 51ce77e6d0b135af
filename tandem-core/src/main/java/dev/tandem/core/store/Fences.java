package dev.tandem.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;

/**
 * Fences of one process seen applied by another (tandem_fences): {@code tandem verify} writes a marker into the
 * change log of a migration another process streams and waits here until that process applied it — exact, unlike a
 * comparison of log positions (a stream's position can move past changes not yet delivered).
 */
public final class Fences {
    private final ControlStore store;

    Fences(ControlStore store) {
        this.store = store;
    }

    /** The streaming process: {@code marker} was handled, everything before it committed on the target. */
    public void applied(String migrationId, String marker) {
        store.transaction("record fence " + marker, c -> {
            try (PreparedStatement old = c.prepareStatement("DELETE FROM tandem_fences WHERE applied_at < ? OR "
                    + "(migration_id = ? AND marker = ?)");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO tandem_fences (migration_id, marker, "
                         + "applied_at) VALUES (?, ?, ?)")) {
                old.setObject(1, ControlStore.ts(store.now().minusSeconds(3600)));
                old.setString(2, migrationId);
                old.setString(3, marker);
                old.executeUpdate();
                ins.setString(1, migrationId);
                ins.setString(2, marker);
                ins.setObject(3, ControlStore.ts(store.now()));
                ins.executeUpdate();
            }
            return null;
        });
    }

    /**
     * The fence's writer: whether {@code marker} was applied; if so its record is removed. Polled while waiting, so
     * asking costs a read and only a found fence a durable write.
     */
    public boolean take(String migrationId, String marker) {
        boolean applied = store.read("look for fence " + marker, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM tandem_fences WHERE migration_id = ? AND "
                    + "marker = ?")) {
                ps.setString(1, migrationId);
                ps.setString(2, marker);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
        if (!applied) {
            return false;
        }
        store.transaction("take fence " + marker, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM tandem_fences WHERE migration_id = ? AND "
                    + "marker = ?")) {
                ps.setString(1, migrationId);
                ps.setString(2, marker);
                return ps.executeUpdate();
            }
        });
        return true;
    }
}
