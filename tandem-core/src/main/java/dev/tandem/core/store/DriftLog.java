package dev.tandem.core.store;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.error.TandemException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Rows a verify run found different (tandem_drift), kept with their keys so they can be reported and repaired. */
public final class DriftLog {
    private final ControlStore store;

    DriftLog(ControlStore store) {
        this.store = store;
    }

    /**
     * One differing row.
     *
     * @param keyValues the key as a JSON array of text values
     * @param kind      how it differs
     * @param columns   for a mismatch, the differing columns as a JSON array; else null
     */
    public record DriftRow(long runId, String table, int chunkNo, String keyValues, DriftKind kind, String columns,
                           Instant detectedAt, Instant repairedAt) {
    }

    /** Stores a differing row; a row of the same run and key found again (after a repair) replaces the earlier. */
    public void record(DriftRow d) {
        try {
            replace(d);
        } catch (TandemException e) {
            if (!SqlErrors.is(e, SqlErrors.Kind.CONSTRAINT)) {
                throw e;
            }
            replace(d); // another thread recorded the same key between our delete and insert: replace its row now
        }
    }

    private void replace(DriftRow d) {
        store.transaction("record drift in " + d.table(), c -> {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM tandem_drift WHERE run_id = ? AND "
                    + "table_name = ? AND key_values = ?")) {
                del.setLong(1, d.runId());
                del.setString(2, d.table());
                del.setString(3, d.keyValues());
                del.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_drift (run_id, table_name, chunk_no, "
                    + "key_values, kind, columns, detected_at, repaired_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)")) {
                ps.setLong(1, d.runId());
                ps.setString(2, d.table());
                ps.setInt(3, d.chunkNo());
                ps.setString(4, d.keyValues());
                ps.setString(5, d.kind().wire());
                ps.setString(6, d.columns());
                ps.setObject(7, ControlStore.ts(d.detectedAt() == null ? store.now() : d.detectedAt()));
                ps.executeUpdate();
            }
            return null;
        });
    }

    public void repaired(long runId, String table, String keyValues) {
        store.transaction("mark drift repaired in " + table, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_drift SET repaired_at = ? WHERE run_id = ? "
                    + "AND table_name = ? AND key_values = ?")) {
                ps.setObject(1, ControlStore.ts(store.now()));
                ps.setLong(2, runId);
                ps.setString(3, table);
                ps.setString(4, keyValues);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** The run's drift, by table and key. */
    public List<DriftRow> list(long runId) {
        return store.read("read the drift of run " + runId, c -> {
            List<DriftRow> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT table_name, chunk_no, key_values, kind, columns, "
                    + "detected_at, repaired_at FROM tandem_drift WHERE run_id = ? ORDER BY table_name, chunk_no, "
                    + "key_values")) {
                ps.setLong(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new DriftRow(runId, rs.getString(1), rs.getInt(2), rs.getString(3),
                                DriftKind.fromWire(rs.getString(4)),
                                rs.getString(5), ControlStore.instant(rs, "detected_at"),
                                ControlStore.instant(rs, "repaired_at")));
                    }
                }
            }
            return out;
        });
    }
}
