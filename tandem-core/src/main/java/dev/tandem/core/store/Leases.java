package dev.tandem.core.store;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.error.TandemException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;

/**
 * One process at a time works on a migration. A process takes the lease, renews it while it works, and gives it
 * back when it stops; a lease not renewed for {@link #STALE} belongs to a process that died (kill -9, lost host) and
 * may be taken over, at once when that process ran on this host and is gone.
 */
public final class Leases {
    /** How long a lease lives without a heartbeat. Heartbeats come every few seconds. */
    public static final Duration STALE = Duration.ofSeconds(30);

    private final ControlStore store;

    Leases(ControlStore store) {
        this.store = store;
    }

    /**
     * Takes the migration's lease for {@code owner}, if it is free, stale, or already {@code owner}'s.
     *
     * @throws TandemException BAD_STATE naming the holder when another live process has it
     */
    public void acquire(String migrationId, String owner) {
        store.transaction("take the lease of " + migrationId, c -> {
            Instant now = store.now();
            try (PreparedStatement ps = c.prepareStatement("SELECT owner, heartbeat_at FROM tandem_leases "
                    + "WHERE migration_id = ? FOR UPDATE")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        String holder = rs.getString(1);
                        Instant beat = ControlStore.instant(rs, "heartbeat_at");
                        if (!holder.equals(owner) && beat.plus(STALE).isAfter(now) && !deadOnThisHost(holder)) {
                            throw TandemException.badState("migration " + migrationId + " is being worked on by "
                                    + holder + " (last heartbeat " + beat + "); expected no other process, actual one. "
                                    + "Stop it first, or wait " + STALE.toSeconds() + " s if it died");
                        }
                    }
                }
            }
            try (PreparedStatement del = c.prepareStatement("DELETE FROM tandem_leases WHERE migration_id = ?");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO tandem_leases (migration_id, owner, "
                         + "heartbeat_at) VALUES (?, ?, ?)")) {
                del.setString(1, migrationId);
                del.executeUpdate();
                ins.setString(1, migrationId);
                ins.setString(2, owner);
                ins.setObject(3, ControlStore.ts(now));
                ins.executeUpdate();
            } catch (java.sql.SQLException e) {
                if (SqlErrors.classify(e) == SqlErrors.Kind.CONSTRAINT) {
                    throw TandemException.badState("migration " + migrationId + " was taken by another process just "
                            + "now; expected no other process, actual one");
                }
                throw e;
            }
            return null;
        });
    }

    /** The process working on the migration now, if one is (a fresh heartbeat, not a dead local process). */
    public java.util.Optional<String> liveHolder(String migrationId) {
        return store.read("read the lease of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT owner, heartbeat_at FROM tandem_leases "
                    + "WHERE migration_id = ?")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return java.util.Optional.<String>empty();
                    }
                    String holder = rs.getString(1);
                    boolean fresh = ControlStore.instant(rs, "heartbeat_at").plus(STALE).isAfter(store.now());
                    return fresh && !deadOnThisHost(holder) ? java.util.Optional.of(holder)
                            : java.util.Optional.<String>empty();
                }
            }
        });
    }

    /** A lease owner name for this process: {@code host:pid:random}. */
    public static String ownerForThisProcess() {
        return hostName() + ":" + ProcessHandle.current().pid() + ":" + java.util.UUID.randomUUID().toString()
                .substring(0, 8);
    }

    /**
     * Whether the holder ran on this host in a process that is gone (kill -9, crash): then its lease need not wait
     * {@link #STALE} to be taken over.
     */
    static boolean deadOnThisHost(String holder) {
        String[] parts = holder.split(":");
        if (parts.length != 3 || !parts[0].equals(hostName())) {
            return false;
        }
        try {
            return ProcessHandle.of(Long.parseLong(parts[1])).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown-host";
        }
    }

    /** Renews the lease; false when {@code owner} no longer holds it (another process took it over). */
    public boolean renew(String migrationId, String owner) {
        return store.transaction("renew the lease of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_leases SET heartbeat_at = ? "
                    + "WHERE migration_id = ? AND owner = ?")) {
                ps.setObject(1, ControlStore.ts(store.now()));
                ps.setString(2, migrationId);
                ps.setString(3, owner);
                return ps.executeUpdate() == 1;
            }
        });
    }

    public void release(String migrationId, String owner) {
        store.transaction("give back the lease of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM tandem_leases WHERE migration_id = ? "
                    + "AND owner = ?")) {
                ps.setString(1, migrationId);
                ps.setString(2, owner);
                ps.executeUpdate();
            }
            return null;
        });
    }
}
