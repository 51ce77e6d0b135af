package dev.tandem.core.store;

import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The audit log: appended in the same transaction as the change it records, never updated. */
public final class AuditLog {
    private final ControlStore store;

    AuditLog(ControlStore store) {
        this.store = store;
    }

    void append(Connection c, String migrationId, String actor, String action, Status from, Status to, String detail)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_audit (migration_id, occurred_at, actor, "
                + "action, from_state, to_state, from_phase, to_phase, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, migrationId);
            ps.setObject(2, ControlStore.ts(store.now()));
            ps.setString(3, actor);
            ps.setString(4, action);
            ps.setString(5, from == null ? null : from.state().wire());
            ps.setString(6, to == null ? null : to.state().wire());
            ps.setString(7, from == null ? null : from.phase().wire());
            ps.setString(8, to == null ? null : to.phase().wire());
            ps.setString(9, detail);
            ps.executeUpdate();
        }
    }

    /** Records an operator action that changes no state (a PATCH of the strategy, say). */
    public void record(String migrationId, String actor, String action, String detail) {
        store.transaction("record " + action + " for " + migrationId, c -> {
            append(c, migrationId, actor, action, null, null, detail);
            return null;
        });
    }

    /** The migration's audit log, oldest first. */
    public List<AuditEntry> list(String migrationId) {
        return store.read("read the audit log of " + migrationId, c -> {
            List<AuditEntry> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, migration_id, occurred_at, actor, action, "
                    + "from_state, to_state, from_phase, to_phase, detail FROM tandem_audit WHERE migration_id = ? "
                    + "ORDER BY id")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new AuditEntry(rs.getLong("id"), rs.getString("migration_id"),
                                ControlStore.instant(rs, "occurred_at"), rs.getString("actor"), rs.getString("action"),
                                status(rs.getString("from_state"), rs.getString("from_phase")),
                                status(rs.getString("to_state"), rs.getString("to_phase")), rs.getString("detail")));
                    }
                }
            }
            return out;
        });
    }

    private static Status status(String state, String phase) {
        return state == null ? null : new Status(MigrationState.fromWire(state), Phase.fromWire(phase));
    }
}
