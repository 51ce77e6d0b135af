package dev.tandem.core.store;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.Lifecycle;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * Stored migrations. Every state change is a compare-and-set on the row's version, checked against
 * {@link Lifecycle}, with an audit row in the same transaction: two processes racing to change one migration
 * cannot both succeed, and the loser learns the actual state.
 */
public final class Migrations {
    private static final String COLUMNS = "id, uuid, description, manifest, state, phase, row_version, created_at, "
            + "updated_at";

    private final ControlStore store;
    private final AuditLog audit;

    Migrations(ControlStore store, AuditLog audit) {
        this.store = store;
        this.audit = audit;
    }

    /** Stores a new migration in state pending. An existing id is a BAD_STATE error naming its state. */
    public MigrationRecord create(String id, String description, String manifestJson, String actor) {
        return store.transaction("create migration " + id, c -> {
            Optional<MigrationRecord> existing = find(c, id);
            if (existing.isPresent()) {
                throw TandemException.badState("migration " + id + " already exists (state "
                        + existing.get().status() + "); choose another id");
            }
            Instant now = store.now();
            UUID uuid = UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_migrations (" + COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, uuid.toString());
                ps.setString(3, description);
                ps.setString(4, manifestJson);
                ps.setString(5, Status.INITIAL.state().wire());
                ps.setString(6, Status.INITIAL.phase().wire());
                ps.setObject(7, ControlStore.ts(now));
                ps.setObject(8, ControlStore.ts(now));
                ps.executeUpdate();
            } catch (SQLException e) {
                if (SqlErrors.classify(e) == SqlErrors.Kind.CONSTRAINT) { // a create of the same id won the race
                    throw TandemException.badState("migration " + id + " already exists (created at the same "
                            + "moment by another request); choose another id");
                }
                throw e;
            }
            audit.append(c, id, actor, "create", null, Status.INITIAL, null);
            return new MigrationRecord(id, uuid, description, manifestJson, Status.INITIAL, 1, now, now);
        });
    }

    public Optional<MigrationRecord> find(String id) {
        return store.read("read migration " + id, c -> find(c, id));
    }

    /** The migration, or a NOT_FOUND error naming the id. */
    public MigrationRecord get(String id) {
        return find(id).orElseThrow(() -> TandemException.notFound("migration " + id + " not found in the control "
                + "store " + store.display() + "; list them with tandem status, or check --store"));
    }

    /**
     * The one reader of a stored manifest: the migration's manifest as stored (before interpolation), read for
     * {@code purpose} with its {@code ${env:...}} references resolved by {@code env}.
     */
    public ManifestDocument manifest(MigrationRecord r, Function<String, String> env, ManifestReader.Purpose purpose) {
        return new ManifestReader(env).document(r.manifest(), "the stored manifest of " + r.id(), purpose);
    }

    public List<MigrationRecord> list() {
        return store.read("list migrations", c -> {
            List<MigrationRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tandem_migrations ORDER BY "
                    + "created_at, id"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(map(rs));
                }
            }
            return out;
        });
    }

    /** Applies {@code event} to the migration's current status. */
    public MigrationRecord transition(String id, LifecycleEvent event, Phase toPhase, String actor, String detail) {
        return transition(id, null, event, toPhase, actor, detail);
    }

    /**
     * Applies {@code event} if the migration is in {@code expected} (null: whatever it is now), as one
     * compare-and-set with an audit row.
     *
     * @throws TandemException BAD_STATE with the expected and actual status when the migration is not where the
     *                         caller expected, or the lifecycle forbids the event from there; NOT_FOUND for an
     *                         unknown id
     */
    public MigrationRecord transition(String id, Status expected, LifecycleEvent event, Phase toPhase, String actor,
                                      String detail) {
        return store.transaction(event.wire() + " migration " + id, c -> {
            MigrationRecord current = find(c, id).orElseThrow(() -> TandemException.notFound("migration " + id
                    + " not found in the control store " + store.display()));
            if (expected != null && !expected.equals(current.status())) {
                throw TandemException.badState("cannot " + event.wire() + " migration " + id + ": expected "
                        + expected + ", actual " + current.status());
            }
            Status next = Lifecycle.next(id, current.status(), event, toPhase);
            Instant now = store.now();
            int updated;
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_migrations SET state = ?, phase = ?, "
                    + "row_version = row_version + 1, updated_at = ? WHERE id = ? AND row_version = ?")) {
                ps.setString(1, next.state().wire());
                ps.setString(2, next.phase().wire());
                ps.setObject(3, ControlStore.ts(now));
                ps.setString(4, id);
                ps.setLong(5, current.version());
                updated = ps.executeUpdate();
            }
            if (updated != 1) {
                Status actual = find(c, id).map(MigrationRecord::status).orElse(null);
                throw TandemException.badState("cannot " + event.wire() + " migration " + id + ": expected "
                        + current.status() + ", actual " + actual + " (changed by another process meanwhile)");
            }
            audit.append(c, id, actor, event.wire(), current.status(), next, detail);
            c.commit();
            store.changed();
            return new MigrationRecord(id, current.uuid(), current.description(), current.manifest(), next,
                    current.version() + 1, current.createdAt(), now);
        });
    }

    /**
     * Replaces the manifest (a PATCH), if the row is still at {@code expectedVersion}. Only before the migration has
     * finished: a terminal migration's manifest is its record.
     */
    public MigrationRecord updateManifest(String id, long expectedVersion, String description, String manifestJson,
                                          String actor, String detail) {
        return store.transaction("update migration " + id, c -> {
            MigrationRecord current = find(c, id).orElseThrow(() -> TandemException.notFound("migration " + id
                    + " not found in the control store " + store.display()));
            MigrationState state = current.status().state();
            if (state.isTerminal()) {
                throw TandemException.badState("cannot change migration " + id + ": expected a state other than "
                        + "completed or rolled_back, actual " + state.wire());
            }
            Instant now = store.now();
            int updated;
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_migrations SET description = ?, "
                    + "manifest = ?, row_version = row_version + 1, updated_at = ? WHERE id = ? AND row_version = ?")) {
                ps.setString(1, description);
                ps.setString(2, manifestJson);
                ps.setObject(3, ControlStore.ts(now));
                ps.setString(4, id);
                ps.setLong(5, expectedVersion);
                updated = ps.executeUpdate();
            }
            if (updated != 1) {
                throw TandemException.badState("cannot change migration " + id + ": expected version "
                        + expectedVersion + ", actual " + current.version() + " (changed meanwhile; read it again)");
            }
            audit.append(c, id, actor, "update", null, null, detail);
            c.commit();
            store.changed();
            return new MigrationRecord(id, current.uuid(), description, manifestJson, current.status(),
                    current.version() + 1, current.createdAt(), now);
        });
    }

    private Optional<MigrationRecord> find(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM tandem_migrations WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(map(rs)) : Optional.empty();
            }
        }
    }

    private static MigrationRecord map(ResultSet rs) throws SQLException {
        return new MigrationRecord(rs.getString("id"), UUID.fromString(rs.getString("uuid")),
                rs.getString("description"), rs.getString("manifest"),
                new Status(MigrationState.fromWire(rs.getString("state")), Phase.fromWire(rs.getString("phase"))),
                rs.getLong("row_version"), ControlStore.instant(rs, "created_at"),
                ControlStore.instant(rs, "updated_at"));
    }
}
