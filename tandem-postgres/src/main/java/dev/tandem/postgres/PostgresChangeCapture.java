package dev.tandem.postgres;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.TableRef;
import io.debezium.embedded.Connect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL logical replication: a publication for the migrated tables and a pgoutput slot, both named after the
 * stream, created before the first chunk is copied (P0 = the slot's starting point). Streaming runs the Debezium
 * embedded engine on that slot with no snapshot of its own (the backfill is Tandem's), Kafka Connect records
 * (no JSON round trip), offsets in Tandem's store ({@link StoreOffsetBackingStore}); the slot's flush LSN moves
 * when Debezium commits offsets, which it does only for records the sink returned from (after the target commit).
 * <p>Heartbeats: every heartbeat interval Debezium runs {@code pg_logical_emit_message} on the source; the message
 * comes back through the slot as a change like any other, so an idle source's slot still moves (no WAL retained
 * for other databases' writes). The same messages make fences: a marker written now is delivered after every change
 * committed before it. They are not transactional (a transactional message per heartbeat and fence measured ~50 %
 * slower catch-up in SourceTransactionsIT). But Debezium, restarting from a stored position, searches the log for the
 * first transaction past it, and non-transactional messages never end that search: a restart on an idle source
 * hung there until a real write came. So every restart writes one empty transactional message first ({@link #wake}).
 */
final class PostgresChangeCapture implements ChangeCapture {
    private static final Logger log = LoggerFactory.getLogger(PostgresChangeCapture.class);

    private final Endpoint endpoint;

    PostgresChangeCapture(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public String positionKind() {
        return "lsn";
    }

    @Override
    public String open(Connection c, String streamName, String owner, List<TableRef> tables) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            Optional<String> recorded = recordedOwner(c, streamName);
            String confirmed = confirmedAtSource(c, streamName).orElse(null);
            boolean slot = confirmed != null || slotExists(c, streamName);
            if (recorded.isPresent() ? !recorded.get().equals(owner) : slot) {
                throw foreign(streamName, recorded.orElse(""), owner);
            }
            boolean madePublication = false;
            if (recorded.isEmpty()) {
                // the publication and its owner record in one transaction: a publication of this name with no
                // record is never Tandem's
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    st.execute("CREATE PUBLICATION " + PgIdent.quote(streamName) + " FOR TABLE "
                            + tables.stream().map(PgSql::table).collect(Collectors.joining(", ")));
                    st.execute("COMMENT ON PUBLICATION " + PgIdent.quote(streamName) + " IS " + PgSql.literal(owner));
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    throw e;
                }
                madePublication = true;
            }
            c.setAutoCommit(true);
            if (slot) {
                return confirmed;
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
                ps.setString(1, streamName);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getString(1);
                }
            } catch (SQLException e) {
                if (madePublication) {
                    try (Statement st = c.createStatement()) {
                        st.execute("DROP PUBLICATION IF EXISTS " + PgIdent.quote(streamName));
                    } catch (SQLException ignored) {
                        // the first error is the one to report
                    }
                }
                throw e;
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }

    @Override
    public void drop(Connection c, String streamName, String owner) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try {
            Optional<String> recorded = recordedOwner(c, streamName);
            if (recorded.isPresent() ? !recorded.get().equals(owner) : slotExists(c, streamName)) {
                log.warn("not dropping {}: {}", streamName, foreign(streamName, recorded.orElse(""), owner)
                        .getMessage());
                return;
            }
            // the slot first: a drop cut short leaves the publication with its owner record, never a bare slot
            for (int attempt = 0; ; attempt++) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) "
                        + "FROM pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, streamName);
                    ps.execute();
                    break;
                } catch (SQLException e) {
                    // the slot is still in use by a stream that is shutting down
                    if (SqlErrors.classify(e) != SqlErrors.Kind.OBJECT_IN_USE || attempt >= 30) {
                        throw e;
                    }
                    sleep(1000);
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("DROP PUBLICATION IF EXISTS " + PgIdent.quote(streamName));
            }
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /**
     * Who the stream of that name is recorded as belonging to (its publication's comment, "" when it has none);
     * empty when there is no publication of that name.
     */
    static Optional<String> recordedOwner(Connection c, String streamName) throws SQLException {
        return firstValue(c, "SELECT coalesce(obj_description(oid, 'pg_publication'), '') FROM pg_publication "
                + "WHERE pubname = ?", streamName);
    }

    static boolean slotExists(Connection c, String streamName) throws SQLException {
        return exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", streamName);
    }

    /** The refusal to take or drop another migration's stream: whose it is, and how to remove a leftover. */
    static TandemException foreign(String streamName, String recorded, String owner) {
        return TandemException.badState("the replication slot or publication " + streamName + " on "
                + "the database belongs to " + (recorded.isEmpty() ? "something not recorded as a Tandem migration"
                : "\"" + recorded + "\"") + ", not to \"" + owner + "\"; Tandem leaves it alone. If it is a leftover "
                + "nothing uses, drop it: SELECT pg_drop_replication_slot('" + streamName + "'); DROP PUBLICATION "
                + PgIdent.quote(streamName) + ";");
    }

    /**
     * One transaction past any stored position, so that Debezium's search for where to resume ends even when the
     * source is idle (its heartbeats and our fences are non-transactional messages, which the search passes over).
     * Best effort: a source that refuses it will refuse the stream too, with a clearer error.
     */
    private void wake() {
        try (Connection c = dev.tandem.core.spi.Connections.open(endpoint, endpoint.url(), PgSession.CONNECT);
             Statement st = c.createStatement()) {
            st.execute("SELECT pg_logical_emit_message(true, '" + PgChangeRecords.HEARTBEAT + "', 'start')");
        } catch (SQLException e) {
            log.warn("cannot write the stream's start marker: {}", endpoint.scrub(e.getMessage()));
        }
    }

    /**
     * A non-transactional message is not flushed by itself: the WAL sender streams only flushed WAL, so without the
     * flush argument (PostgreSQL 17+) the fence waited for the WAL writer, up to wal_writer_delay (200 ms by default)
     * — most of a cutover's write pause. Older servers still wait for it.
     */
    @Override
    public String fence(Connection c, String marker) throws SQLException {
        String sql = c.getMetaData().getDatabaseMajorVersion() >= 17
                ? "SELECT pg_logical_emit_message(false, ?, ?, true)::text"
                : "SELECT pg_logical_emit_message(false, ?, ?)::text";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, PgChangeRecords.FENCE_PREFIX);
            ps.setString(2, marker);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    @Override
    public Optional<String> confirmedAtSource(Connection c, String streamName) throws SQLException {
        return firstValue(c, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?",
                streamName);
    }

    @Override
    public Optional<String> streamGone(Connection c, String streamName) throws SQLException {
        // wal_status exists from PostgreSQL 13 on; through to_jsonb an older server reads null instead of failing
        try (PreparedStatement ps = c.prepareStatement("SELECT to_jsonb(s) ->> 'wal_status' FROM "
                + "pg_replication_slots s WHERE slot_name = ?")) {
            ps.setString(1, streamName);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.of("its replication slot " + streamName + " no longer exists on the source "
                            + "(dropped)");
                }
                if ("lost".equals(rs.getString(1))) {
                    return Optional.of("its replication slot " + streamName + " was invalidated by the source: it "
                            + "held more WAL than max_slot_wal_keep_size allows, and the WAL it needed is removed");
                }
                return Optional.empty();
            }
        }
    }

    @Override
    public String currentPosition(Connection c) throws SQLException {
        return new PostgresChangeLog().currentPosition(c);
    }

    @Override
    public java.util.OptionalLong changesSoFar(Connection c, List<TableRef> tables) throws SQLException {
        if (tables.isEmpty()) {
            return java.util.OptionalLong.of(0);
        }
        StringBuilder sql = new StringBuilder("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM "
                + "pg_stat_user_tables WHERE (schemaname, relname) IN (");
        for (int i = 0; i < tables.size(); i++) {
            sql.append(i == 0 ? "(?, ?)" : ", (?, ?)");
        }
        try (PreparedStatement ps = c.prepareStatement(sql.append(")").toString())) {
            for (int i = 0; i < tables.size(); i++) {
                ps.setString(2 * i + 1, tables.get(i).schema());
                ps.setString(2 * i + 2, tables.get(i).name());
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return java.util.OptionalLong.of(rs.getLong(1));
            }
        }
    }

    @Override
    public long distance(String from, String to) {
        if (from == null || to == null) {
            return 0;
        }
        return Math.max(0, Lsn.parse(to) - Lsn.parse(from));
    }

    @Override
    public ChangeStream start(StreamSpec spec) {
        if (spec.offsets().load().isPresent()) {
            wake(); // a restart: Debezium searches for its position first
        }
        return PgChangeStream.start(endpoint, spec);
    }

    /** The first row's first column of {@code sql} with one text argument; empty when no row or SQL NULL. */
    private static Optional<String> firstValue(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }


}
