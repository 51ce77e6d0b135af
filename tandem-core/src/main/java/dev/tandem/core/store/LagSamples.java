package dev.tandem.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The lag history of a migration's streams; the streaming process writes, anyone reads. Kept for an hour. */
public final class LagSamples {
    private static final Duration KEEP = Duration.ofHours(1);
    private final ControlStore store;
    private long inserts;

    LagSamples(ControlStore store) {
        this.store = store;
    }

    public void record(String migrationId, StreamDirection stream, LagSample s) {
        boolean prune = inserts++ % 60 == 0;
        store.transaction("record the lag of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_lag (migration_id, stream_name, "
                    + "sampled_at, source_position, applied_position, applied_commit_at, lag_seconds, lag_records, "
                    + "lag_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, migrationId);
                ps.setString(2, stream.wire());
                ps.setObject(3, ControlStore.ts(s.sampledAt()));
                ps.setString(4, s.sourcePosition());
                ps.setString(5, s.appliedPosition());
                ps.setObject(6, s.appliedCommitAt() == null ? null : ControlStore.ts(s.appliedCommitAt()));
                ps.setDouble(7, s.seconds());
                ps.setLong(8, s.records());
                ps.setLong(9, s.bytes());
                ps.executeUpdate();
            }
            if (prune) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM tandem_lag WHERE migration_id = ? "
                        + "AND sampled_at < ?")) {
                    ps.setString(1, migrationId);
                    ps.setObject(2, ControlStore.ts(s.sampledAt().minus(KEEP)));
                    ps.executeUpdate();
                }
            }
            return null;
        });
    }

    /** The newest samples first, at most {@code limit}. */
    public List<LagSample> recent(String migrationId, StreamDirection stream, int limit) {
        return store.read("read the lag of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT sampled_at, source_position, applied_position, "
                    + "applied_commit_at, lag_seconds, lag_records, lag_bytes FROM tandem_lag WHERE migration_id = ? "
                    + "AND stream_name = ? ORDER BY sampled_at DESC")) {
                ps.setString(1, migrationId);
                ps.setString(2, stream.wire());
                ps.setMaxRows(limit);
                List<LagSample> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new LagSample(ControlStore.instant(rs, "sampled_at"), rs.getString(2), rs.getString(3),
                                rs.getObject(4) == null ? null : ControlStore.instant(rs, "applied_commit_at"),
                                rs.getDouble(5), rs.getLong(6), rs.getLong(7)));
                    }
                }
                return out;
            }
        });
    }
}
