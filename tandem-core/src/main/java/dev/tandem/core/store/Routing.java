package dev.tandem.core.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.TandemException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the routers of a migration must do besides its strategy (tandem_migrations.routing) and what they said
 * (tandem_routers). Changing the control increments the migration's row_version, which is the routing epoch routers
 * follow; every change is audited.
 */
public final class Routing {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The longest the control plane holds a router's long poll for the routing state: a router that runs asks again
     * at least this often.
     */
    public static final Duration POLL = Duration.ofSeconds(10);
    /** What a router is allowed beyond {@link #POLL} (network, a busy JVM) before it is taken for gone. */
    public static final Duration GRACE = Duration.ofSeconds(5);
    /**
     * A router that asked for the routing state this recently counts as live: a cutover or rollback waits for its
     * acknowledgement of the freeze. A router that closes leaves at once ({@link #leave}); one that died (kill -9, its
     * host gone) stops counting {@code POLL + GRACE} after its last request. The hazard, documented in README: a
     * router cut off from the control plane but still serving its application keeps its last routing state, so
     * after that time a cutover no longer waits for it, and writes it sends to the source after the flip reach the
     * source only; keep routers where they reach the control plane, and watch {@code status.routers[].live}.
     */
    public static final Duration LIVE_WINDOW = POLL.plus(GRACE);
    /** A router not seen this long is forgotten when another joins (its rows are no use to any cutover). */
    public static final Duration FORGET_AFTER = Duration.ofDays(1);
    public static final long DEFAULT_FREEZE_TIMEOUT_MS = 5_000;

    /**
     * @param frozen          new write transactions wait at the routers' gates
     * @param cutOver         writes and reads go to the target
     * @param freezeTimeoutMs how long a write transaction waits at a frozen gate before it fails
     * @param last            the report of the last cutover or rollback (JSON), or null
     */
    public record Control(boolean frozen, boolean cutOver, long freezeTimeoutMs, JsonNode last) {
        public static final Control INITIAL = new Control(false, false, DEFAULT_FREEZE_TIMEOUT_MS, null);

        public Control frozen(boolean f) {
            return new Control(f, cutOver, freezeTimeoutMs, last);
        }

        public Control cutOver(boolean c) {
            return new Control(frozen, c, freezeTimeoutMs, last);
        }

        public Control last(JsonNode report) {
            return new Control(frozen, cutOver, freezeTimeoutMs, report);
        }

        public Control freezeTimeoutMs(long ms) {
            return new Control(frozen, cutOver, ms, last);
        }
    }

    /** One router as it last reported. */
    public record Router(String routerId, long epoch, JsonNode report, Instant acknowledgedAt, Instant seenAt) {
    }

    private final ControlStore store;

    Routing(ControlStore store) {
        this.store = store;
    }

    /** The control, if a cutover ever touched it. */
    public Optional<Control> find(String migrationId) {
        return store.read("read routing of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT routing FROM tandem_migrations WHERE id = ?")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getString(1) == null) {
                        return Optional.<Control>empty();
                    }
                    return Optional.of(parse(rs.getString(1)));
                }
            }
        });
    }

    public Control get(String migrationId) {
        return find(migrationId).orElse(Control.INITIAL);
    }

    /** Stores {@code control}: a new routing epoch. Returns the epoch (the migration's new row_version). */
    public long set(String migrationId, Control control, String actor, String detail) {
        long epoch = store.transaction("set routing of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_migrations SET routing = ?, "
                    + "row_version = row_version + 1, updated_at = ? WHERE id = ?")) {
                ps.setString(1, write(control));
                ps.setObject(2, ControlStore.ts(store.now()));
                ps.setString(3, migrationId);
                if (ps.executeUpdate() != 1) {
                    throw TandemException.notFound("migration " + migrationId + " not found");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT row_version FROM tandem_migrations WHERE id = ?")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        store.audit().record(migrationId, actor, "routing", "epoch " + epoch + ": " + detail);
        store.changed();
        return epoch;
    }

    /**
     * A router acknowledged {@code epoch}, reporting its counters. A router not yet known joins only while fewer than
     * {@code maxLive} routers of the migration are live (each is one a cutover must wait for, so an unbounded number
     * would let anyone with a router token stall every cutover and grow the store); routers not seen for
     * {@link #FORGET_AFTER} are forgotten when a new one joins.
     *
     * @throws TandemException bad state when the migration already has {@code maxLive} live routers
     */
    public void ack(String migrationId, String routerId, long epoch, String reportJson, int maxLive) {
        store.transaction("acknowledge routing of " + migrationId, c -> {
            Instant now = store.now();
            try (PreparedStatement up = c.prepareStatement("UPDATE tandem_routers SET epoch = ?, report = ?, "
                    + "acknowledged_at = ?, seen_at = ? WHERE migration_id = ? AND router_id = ?")) {
                up.setLong(1, epoch);
                up.setString(2, reportJson);
                up.setObject(3, ControlStore.ts(now));
                up.setObject(4, ControlStore.ts(now));
                up.setString(5, migrationId);
                up.setString(6, routerId);
                if (up.executeUpdate() == 1) {
                    return null;
                }
            }
            try (PreparedStatement del = c.prepareStatement("DELETE FROM tandem_routers WHERE migration_id = ? "
                    + "AND seen_at < ?")) {
                del.setString(1, migrationId);
                del.setObject(2, ControlStore.ts(now.minus(FORGET_AFTER)));
                del.executeUpdate();
            }
            try (PreparedStatement count = c.prepareStatement("SELECT count(*) FROM tandem_routers "
                    + "WHERE migration_id = ? AND seen_at >= ?")) {
                count.setString(1, migrationId);
                count.setObject(2, ControlStore.ts(now.minus(LIVE_WINDOW)));
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) >= maxLive) {
                        throw TandemException.badState("migration " + migrationId + " already has " + rs.getInt(1)
                                + " live routers (the server's cap, --max-routers " + maxLive + "); router '"
                                + routerId + "' is refused. Stop routers that no longer run (one not seen for "
                                + LIVE_WINDOW.toSeconds() + " s stops counting), or restart the server with a "
                                + "higher --max-routers");
                    }
                }
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO tandem_routers (migration_id, router_id, "
                    + "epoch, report, acknowledged_at, seen_at) VALUES (?, ?, ?, ?, ?, ?)")) {
                ins.setString(1, migrationId);
                ins.setString(2, routerId);
                ins.setLong(3, epoch);
                ins.setString(4, reportJson);
                ins.setObject(5, ControlStore.ts(now));
                ins.setObject(6, ControlStore.ts(now));
                ins.executeUpdate();
            }
            return null;
        });
        store.changed();
    }

    /**
     * A router closed: it is forgotten at once (a cutover waiting for it goes on; it holds no write any more).
     * Returns whether it was known.
     */
    public boolean leave(String migrationId, String routerId, String actor) {
        boolean known = store.transaction("router leaves", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM tandem_routers WHERE migration_id = ? "
                    + "AND router_id = ?")) {
                ps.setString(1, migrationId);
                ps.setString(2, routerId);
                return ps.executeUpdate() == 1;
            }
        });
        if (known) {
            store.audit().record(migrationId, actor, "router_left", "router " + routerId + " closed");
            store.changed();
        }
        return known;
    }

    /** A known router asked for the routing state (it is alive). Unknown routers appear with their first ack. */
    public void seen(String migrationId, String routerId) {
        store.transaction("router seen", c -> {
            try (PreparedStatement up = c.prepareStatement("UPDATE tandem_routers SET seen_at = ? "
                    + "WHERE migration_id = ? AND router_id = ?")) {
                up.setObject(1, ControlStore.ts(store.now()));
                up.setString(2, migrationId);
                up.setString(3, routerId);
                up.executeUpdate();
            }
            return null;
        });
    }

    /** The routers of a migration, by id. */
    public List<Router> routers(String migrationId) {
        return store.read("list routers of " + migrationId, c -> {
            List<Router> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT router_id, epoch, report, acknowledged_at, seen_at "
                    + "FROM tandem_routers WHERE migration_id = ? ORDER BY router_id")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String report = rs.getString("report");
                        out.add(new Router(rs.getString("router_id"), rs.getLong("epoch"), report == null ? null
                                : readTree(report), ControlStore.instant(rs, "acknowledged_at"),
                                ControlStore.instant(rs, "seen_at")));
                    }
                }
            }
            return out;
        });
    }

    /**
     * Mismatched shadow reads over compared ones, summed over the counters the migration's routers last reported
     * (each router's since it started; a router that closed is forgotten with its counts), or NaN while fewer than
     * {@code minCompared} were compared (one mismatch in two reads is no rate to abort on).
     */
    public double shadowMismatchRate(String migrationId, long minCompared) {
        long matches = 0;
        long mismatches = 0;
        for (Router r : routers(migrationId)) {
            if (r.report() != null) {
                matches += r.report().path("shadow_matches").asLong(0);
                mismatches += r.report().path("shadow_mismatches").asLong(0);
            }
        }
        long compared = matches + mismatches;
        return compared < Math.max(1, minCompared) ? Double.NaN : (double) mismatches / compared;
    }

    /** Routers that asked for the routing state within {@link #LIVE_WINDOW}. */
    public List<Router> live(String migrationId) {
        Instant since = store.now().minus(LIVE_WINDOW);
        return routers(migrationId).stream().filter(r -> r.seenAt().isAfter(since)).toList();
    }

    static Control parse(String json) {
        JsonNode n = readTree(json);
        return new Control(n.path("frozen").asBoolean(false), n.path("cut_over").asBoolean(false),
                n.path("freeze_timeout_ms").asLong(DEFAULT_FREEZE_TIMEOUT_MS),
                n.hasNonNull("last") ? n.get("last") : null);
    }

    static String write(Control c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("frozen", c.frozen());
        n.put("cut_over", c.cutOver());
        n.put("freeze_timeout_ms", c.freezeTimeoutMs());
        if (c.last() != null) {
            n.set("last", c.last());
        }
        return n.toString();
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("routing JSON in the store is not JSON: " + e.getMessage(), e);
        }
    }
}
