package dev.tandem.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Alert rules that fired (tandem_alerts): written by the process that runs the migration, read by status, metrics
 * and the dashboard of any process. A row is open until the rule resolves.
 */
public final class AlertLog {
    private final ControlStore store;

    AlertLog(ControlStore store) {
        this.store = store;
    }

    /**
     * @param observed the values the condition was tested on, e.g. {@code lag_seconds=412.0}
     */
    public record Alert(long id, String migrationId, String name, String severity, String condition, String message,
                        String observed, Instant firedAt, Instant resolvedAt) {
    }

    /** Records a rule that started firing; returns the row's id. */
    public long fire(String migrationId, String name, String severity, String condition, String message,
                     String observed) {
        return store.transaction("record alert " + name, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_alerts (migration_id, name, severity, "
                    + "alert_condition, message, observed, fired_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, migrationId);
                ps.setString(2, name);
                ps.setString(3, severity);
                ps.setString(4, condition);
                ps.setString(5, message);
                ps.setString(6, observed);
                ps.setObject(7, ControlStore.ts(store.now()));
                ps.executeUpdate();
                try (ResultSet rs = ps.getGeneratedKeys()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    public void resolve(long id) {
        store.transaction("resolve alert " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_alerts SET resolved_at = ? WHERE id = ? "
                    + "AND resolved_at IS NULL")) {
                ps.setObject(1, ControlStore.ts(store.now()));
                ps.setLong(2, id);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The migration's alerts, oldest first; only the firing ones with {@code openOnly}. */
    public List<Alert> list(String migrationId, boolean openOnly) {
        return store.read("read alerts of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, migration_id, name, severity, alert_condition, "
                    + "message, observed, fired_at, resolved_at FROM tandem_alerts WHERE migration_id = ?"
                    + (openOnly ? " AND resolved_at IS NULL" : "") + " ORDER BY id")) {
                ps.setString(1, migrationId);
                List<Alert> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Alert(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7),
                                ControlStore.instant(rs, "fired_at"), ControlStore.instant(rs, "resolved_at")));
                    }
                }
                return out;
            }
        });
    }
}
