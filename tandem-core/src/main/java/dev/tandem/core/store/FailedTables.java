package dev.tandem.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Tables a migration gave up under {@code failure_handling: allow_partial} (tandem_failed_tables): the stream skips
 * their changes from then on, also after a restart; status lists them.
 */
public final class FailedTables {
    private final ControlStore store;

    FailedTables(ControlStore store) {
        this.store = store;
    }

    /** @param table qualified, as the migration names it ({@code public.orders}) */
    public record FailedTable(String table, String error, Instant failedAt) {
    }

    /** Records that {@code table} was given up (once: a second record of it keeps the first). */
    public void record(String migrationId, String table, String error) {
        store.transaction("record failed table " + table, c -> {
            try (PreparedStatement find = c.prepareStatement("SELECT 1 FROM tandem_failed_tables WHERE migration_id = "
                    + "? AND table_name = ?")) {
                find.setString(1, migrationId);
                find.setString(2, table);
                try (ResultSet rs = find.executeQuery()) {
                    if (rs.next()) {
                        return null;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_failed_tables (migration_id, "
                    + "table_name, error, failed_at) VALUES (?, ?, ?, ?)")) {
                ps.setString(1, migrationId);
                ps.setString(2, table);
                ps.setString(3, error);
                ps.setObject(4, ControlStore.ts(store.now()));
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The migration's failed tables, in the order they failed. */
    public List<FailedTable> list(String migrationId) {
        return store.read("read the failed tables of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT table_name, error, failed_at FROM "
                    + "tandem_failed_tables WHERE migration_id = ? ORDER BY failed_at, table_name")) {
                ps.setString(1, migrationId);
                List<FailedTable> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new FailedTable(rs.getString(1), rs.getString(2),
                                ControlStore.instant(rs, "failed_at")));
                    }
                }
                return out;
            }
        });
    }
}
