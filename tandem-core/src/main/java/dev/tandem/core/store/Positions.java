package dev.tandem.core.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;

/** Change-stream positions, one row per migration and stream. */
public final class Positions {
    private final ControlStore store;

    Positions(ControlStore store) {
        this.store = store;
    }

    /** Records P0 for a new stream. The stream must not exist yet: P0 is set once. */
    public void open(String migrationId, StreamDirection stream, String kind, String start) {
        store.transaction("record the start position of " + migrationId + "/" + stream.wire(), c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_positions (migration_id, stream_name, "
                    + "position_kind, start_position, confirmed_position, offsets, updated_at) "
                    + "VALUES (?, ?, ?, ?, ?, NULL, ?)")) {
                ps.setString(1, migrationId);
                ps.setString(2, stream.wire());
                ps.setString(3, kind);
                ps.setString(4, start);
                ps.setString(5, start);
                ps.setObject(6, ControlStore.ts(store.now()));
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Moves the confirmed position. Call only after the changes up to it are committed on the other side. */
    public void confirm(String migrationId, StreamDirection stream, String confirmed, String offsets) {
        store.transaction("confirm the position of " + migrationId + "/" + stream.wire(), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_positions SET confirmed_position = ?, "
                    + "offsets = ?, updated_at = ? WHERE migration_id = ? AND stream_name = ?")) {
                ps.setString(1, confirmed);
                ps.setString(2, offsets);
                ps.setObject(3, ControlStore.ts(store.now()));
                ps.setString(4, migrationId);
                ps.setString(5, stream.wire());
                if (ps.executeUpdate() != 1) {
                    throw dev.tandem.core.error.TandemException.badState("cannot confirm a position of stream "
                            + stream.wire() + " of migration " + migrationId + ": expected an open stream, actual none");
                }
            }
            return null;
        });
    }

    public Optional<StreamPosition> find(String migrationId, StreamDirection stream) {
        return store.read("read the position of " + migrationId + "/" + stream.wire(), c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT migration_id, stream_name, position_kind, "
                    + "start_position, confirmed_position, offsets, updated_at FROM tandem_positions "
                    + "WHERE migration_id = ? AND stream_name = ?")) {
                ps.setString(1, migrationId);
                ps.setString(2, stream.wire());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new StreamPosition(rs.getString(1), StreamDirection.fromWire(rs.getString(2)), rs.getString(3),
                            rs.getString(4), rs.getString(5), rs.getString(6), ControlStore.instant(rs, "updated_at")));
                }
            }
        });
    }

    /** Forgets a stream's position (its slot was dropped). */
    public void delete(String migrationId, StreamDirection stream) {
        store.transaction("forget the position of " + migrationId + "/" + stream.wire(), c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM tandem_positions WHERE migration_id = ? "
                    + "AND stream_name = ?")) {
                ps.setString(1, migrationId);
                ps.setString(2, stream.wire());
                ps.executeUpdate();
            }
            return null;
        });
    }
}
