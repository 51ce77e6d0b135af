package dev.tandem.core.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The audit log: appended in the same transaction as the change it records, never updated. */
public final class AuditLog {
    private static final ObjectMapper JSON = new ObjectMapper();
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

    /**
     * Archives the migration's audit as JSON lines next to an embedded store ({@code <store>/archive/ID-audit.jsonl},
     * once the migration is done); a PostgreSQL store keeps it in its tables. Returns what it did, for people; a file
     * that cannot be written is said so, never an error (the audit stays in the store).
     */
    public String archive(String migrationId) {
        if (store.display().startsWith("jdbc:")) {
            return "the audit stays in the control store";
        }
        Path file = Path.of(store.display()).resolve("archive").resolve(migrationId + "-audit.jsonl");
        StringBuilder b = new StringBuilder();
        for (AuditEntry e : list(migrationId)) {
            ObjectNode n = JSON.createObjectNode();
            n.put("at", e.occurredAt().toString());
            n.put("actor", e.actor());
            n.put("action", e.action());
            n.put("from", e.from() == null ? null : e.from().toString());
            n.put("to", e.to() == null ? null : e.to().toString());
            n.put("detail", e.detail());
            b.append(n).append('\n');
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, b);
        } catch (IOException e) {
            return "the audit could not be archived to " + file + " (" + e.getMessage() + "); it stays in the store";
        }
        return "audit archived to " + file;
    }

    private static Status status(String state, String phase) {
        return state == null ? null : new Status(MigrationState.fromWire(state), Phase.fromWire(phase));
    }
}
