package dev.tandem.postgres;

import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;

/**
 * Applies reduced changes as set operations: the batch's rows go by COPY into session temp tables (emptied at
 * commit), then one DELETE ... USING for the deletes, one INSERT ... ON CONFLICT DO UPDATE for the whole rows, and
 * one UPDATE ... FROM per set of present columns for the partial updates. All of it is idempotent. The session runs
 * with session_replication_role = replica (as the backfill's), so target triggers and foreign-key checks do not fire
 * for applied changes.
 */
final class PostgresChangeApplier implements ChangeApplier {
    static final String POSITIONS = "tandem_apply_position";
    /** Up to this many changes of a table are applied as plain statements, more by COPY into a temp table. */
    private static final int SMALL = 32;
    /** Temp tables already created per session, so a batch costs no CREATE round trips after the first. */
    private final Map<Connection, Set<String>> created = java.util.Collections.synchronizedMap(
            new java.util.WeakHashMap<>());
    /** Statements of small change sets held back per session until {@link #flush}. */
    private final Map<Connection, List<String>> held = java.util.Collections.synchronizedMap(
            new java.util.WeakHashMap<>());

    @Override
    public List<String> prepare(Connection target) throws SQLException {
        return new PostgresChunkWriter().prepare(target);
    }

    @Override
    public void apply(Connection c, ApplyTable t, List<Change> changes) throws SQLException {
        List<String> key = t.target().keyColumns().stream().map(KeyColumn::name).toList();
        List<Change> deletes = new ArrayList<>();
        List<Change> upserts = new ArrayList<>();
        Map<List<String>, List<Change>> partials = new LinkedHashMap<>();
        Map<List<String>, List<Change>> narrow = new LinkedHashMap<>();
        List<String> layout = null; // the changes of one table share their column list; check it once
        boolean whole = true;
        for (Change ch : changes) {
            if (ch.kind() == Change.Kind.UPSERT && ch.columns() != layout) {
                layout = ch.columns();
                whole = layout.size() >= t.columns().size() && Set.copyOf(layout).containsAll(t.columns());
            }
            switch (ch.kind()) {
                case DELETE -> deletes.add(ch);
                case UPSERT -> {
                    if (whole) {
                        upserts.add(ch);
                    } else {
                        narrow.computeIfAbsent(present(ch, t.columns()), k -> new ArrayList<>()).add(ch);
                    }
                }
                case PARTIAL_UPDATE -> partials.computeIfAbsent(present(ch, t.columns()), k -> new ArrayList<>())
                        .add(ch);
                default -> {
                }
            }
        }
        String table = PgSql.table(t.target().ref());
        boolean newest = t.strategy() == ConflictResolution.Strategy.NEWEST_WINS && t.timestampColumn() != null;
        // rows from before a column was added on both sides (a stream replayed after the operator altered the
        // target): the columns they lack keep the target's default on insert and their value on update, as on the
        // source; writing them as NULL would change rows the source never changed
        for (var e : narrow.entrySet()) {
            ApplyTable part = new ApplyTable(t.target(), e.getKey(), t.strategy(), t.timestampColumn());
            applySmall(pending(c), part, key, List.of(), e.getValue(), Map.of(),
                    newest && e.getKey().contains(t.timestampColumn()));
        }
        if (changes.size() <= SMALL) {
            applySmall(pending(c), t, key, deletes, upserts, partials, newest);
            return;
        }
        flush(c);
        String temp = temp(c, t);
        try (Statement st = c.createStatement()) {
            if (!deletes.isEmpty()) {
                copy(c, temp + "_k", key, deletes, true);
                st.execute("DELETE FROM " + table + " t USING " + temp + "_k d WHERE " + match(key, "t", "d"));
                st.execute("DELETE FROM " + temp + "_k"); // the same transaction may apply more (one by one, a part)
            }
            if (!upserts.isEmpty()) {
                copy(c, temp, t.columns(), upserts, false);
                List<String> updated = t.columns().stream().filter(col -> !key.contains(col)).toList();
                st.execute("INSERT INTO " + table + " AS t (" + PgSql.columns(t.columns()) + ") SELECT "
                        + PgSql.columns(t.columns()) + " FROM " + temp + onConflict(t, key, newest));
                st.execute("DELETE FROM " + temp);
            }
            for (var e : partials.entrySet()) {
                List<String> cols = e.getKey();
                copy(c, temp, cols, e.getValue(), false);
                List<String> set = cols.stream().filter(col -> !key.contains(col)).toList();
                if (!set.isEmpty()) {
                    boolean compare = newest && cols.contains(t.timestampColumn());
                    st.execute("UPDATE " + table + " t SET " + set.stream()
                            .map(col -> PgIdent.quote(col) + " = p." + PgIdent.quote(col))
                            .collect(Collectors.joining(", ")) + " FROM " + temp + " p WHERE " + match(key, "t", "p")
                            + (compare ? " AND " + newer("p", "t", t.timestampColumn()) : ""));
                }
                st.execute("DELETE FROM " + temp);
            }
        }
    }

    /**
     * A few changes (the common case when the stream keeps up, and per source transaction): one round trip of plain
     * statements with the values as literals (the database's own text form, quoted; standard_conforming_strings is
     * on in every Tandem session) instead of COPY into a temp table and three statements.
     */
    private static void applySmall(List<String> st, ApplyTable t, List<String> key, List<Change> deletes,
                                   List<Change> upserts, Map<List<String>, List<Change>> partials, boolean newest) {
        String table = PgSql.table(t.target().ref());
        List<KeyColumn> keyColumns = t.target().keyColumns();
        {
            if (!deletes.isEmpty()) {
                st.add("DELETE FROM " + table + " WHERE " + PgSql.tuple(keyColumns) + " IN (" + deletes.stream()
                        .map(d -> PgSql.values(keyColumns, d.key())).collect(Collectors.joining(", ")) + ")");
            }
            if (!upserts.isEmpty()) {
                StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" AS t (")
                        .append(PgSql.columns(t.columns())).append(") VALUES ");
                for (int r = 0; r < upserts.size(); r++) {
                    Change u = upserts.get(r);
                    sql.append(r == 0 ? "(" : ", (");
                    for (int i = 0; i < t.columns().size(); i++) {
                        int at = u.columns().indexOf(t.columns().get(i));
                        sql.append(i == 0 ? "" : ", ").append(literalOrNull(at < 0 ? null : u.values().get(at)));
                    }
                    sql.append(')');
                }
                st.add(sql.append(onConflict(t, key, newest)).toString());
            }
            for (var e : partials.entrySet()) {
                List<String> set = e.getKey().stream().filter(col -> !key.contains(col)).toList();
                if (set.isEmpty()) {
                    continue;
                }
                boolean compare = newest && e.getKey().contains(t.timestampColumn());
                for (Change p : e.getValue()) {
                    String assignments = set.stream().map(col -> PgIdent.quote(col) + " = "
                            + literalOrNull(p.values().get(p.columns().indexOf(col))))
                            .collect(Collectors.joining(", "));
                    String where = PgSql.tuple(keyColumns) + " = " + PgSql.values(keyColumns, p.key());
                    if (compare) {
                        String col = PgIdent.quote(t.timestampColumn());
                        where += " AND (t." + col + " IS NULL OR "
                                + literalOrNull(p.values().get(p.columns().indexOf(t.timestampColumn()))) + " >= t."
                                + col + ")";
                    }
                    st.add("UPDATE " + table + " t SET " + assignments + " WHERE " + where);
                }
            }
        }
    }

    /** Statements held back on a connection, sent in one round trip by {@link #flush}. */
    private List<String> pending(Connection c) {
        return held.computeIfAbsent(c, k -> new ArrayList<>());
    }

    @Override
    public void flush(Connection c) throws SQLException {
        List<String> statements = held.get(c);
        if (statements == null || statements.isEmpty()) {
            return;
        }
        try (Statement st = c.createStatement()) {
            for (String sql : statements) {
                st.addBatch(sql);
            }
            statements.clear(); // sent or failed: either way not to be sent again
            st.executeBatch();
        } catch (java.sql.BatchUpdateException e) {
            throw e.getNextException() != null ? e.getNextException() : e;
        }
    }

    private static String literalOrNull(String v) {
        return v == null ? "NULL" : PgSql.literal(v);
    }

    /** {@code ON CONFLICT (key) DO UPDATE SET every other column} (newest_wins: only over an older row). */
    private static String onConflict(ApplyTable t, List<String> key, boolean newest) {
        List<String> updated = t.columns().stream().filter(col -> !key.contains(col)).toList();
        return " ON CONFLICT (" + PgSql.columns(key) + ") " + (updated.isEmpty() ? "DO NOTHING" : "DO UPDATE SET "
                + updated.stream().map(col -> PgIdent.quote(col) + " = EXCLUDED." + PgIdent.quote(col))
                .collect(Collectors.joining(", "))
                + (newest ? " WHERE " + newer("EXCLUDED", "t", t.timestampColumn()) : ""));
    }

    @Override
    public void rolledBack(Connection target) {
        created.remove(target); // temp tables created in the rolled-back transaction are gone
        held.remove(target);
    }

    @Override
    public Optional<AppliedPositions> appliedPositions() {
        return Optional.of(new AppliedPositions() {
            @Override
            public String applied(Connection target, String stream) throws SQLException {
                return appliedPosition(target, stream);
            }

            @Override
            public void record(Connection target, String stream, String position) throws SQLException {
                recordPosition(target, stream, position);
            }

            @Override
            public void forget(Connection target, String stream) throws SQLException {
                forgetPosition(target, stream);
            }
        });
    }

    private String appliedPosition(Connection c, String stream) throws SQLException {
        if (!positionTableExists(c)) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT position FROM " + POSITIONS + " WHERE stream = ?")) {
            ps.setString(1, stream);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * One row per stream in {@value #POSITIONS}, a table in the target's current schema (created on first use; the
     * migrating user creates the target's tables anyway). Dropped again when the last stream is forgotten.
     */
    private void recordPosition(Connection c, String stream, String position) throws SQLException {
        Set<String> made = created.computeIfAbsent(c, k -> java.util.concurrent.ConcurrentHashMap.newKeySet());
        try (Statement st = c.createStatement()) {
            if (!made.contains(POSITIONS)) {
                st.execute("CREATE TABLE IF NOT EXISTS " + POSITIONS + " (stream text PRIMARY KEY, position text NOT "
                        + "NULL, applied_at timestamptz NOT NULL DEFAULT now())");
                made.add(POSITIONS);
            }
        }
        pending(c).add("INSERT INTO " + POSITIONS + " (stream, position) VALUES (" + PgSql.literal(stream) + ", "
                + PgSql.literal(position) + ") ON CONFLICT (stream) DO UPDATE SET position = EXCLUDED.position, "
                + "applied_at = now()");
    }

    private void forgetPosition(Connection c, String stream) throws SQLException {
        if (!positionTableExists(c)) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + POSITIONS + " WHERE stream = ?")) {
            ps.setString(1, stream);
            ps.execute();
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 FROM " + POSITIONS)) {
            if (!rs.next()) {
                st.execute("DROP TABLE " + POSITIONS);
            }
        }
        if (!c.getAutoCommit()) {
            c.commit();
        }
        created.remove(c);
    }

    private static boolean positionTableExists(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('" + POSITIONS + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Override
    public void truncate(Connection c, ApplyTable t, KeyRange within, List<KeyRange> except) throws SQLException {
        flush(c);
        String table = PgSql.table(t.target().ref());
        try (Statement st = c.createStatement()) {
            if (within == null && except.isEmpty()) {
                st.execute("TRUNCATE " + table);
                return;
            }
            String keep = except.isEmpty() ? "" : " AND NOT (" + except.stream().map(PgSql::predicate)
                    .collect(Collectors.joining(" OR ")) + ")";
            st.execute("DELETE FROM " + table + " WHERE " + (within == null ? "TRUE" : PgSql.predicate(within)) + keep);
        }
    }

    /** newest_wins: the incoming row's timestamp is not older than the target's (or the target has none). */
    private static String newer(String incoming, String existing, String column) {
        String col = PgIdent.quote(column);
        return "(" + existing + "." + col + " IS NULL OR " + incoming + "." + col + " >= " + existing + "." + col + ")";
    }

    private static String match(List<String> key, String a, String b) {
        return key.stream().map(k -> a + "." + PgIdent.quote(k) + " = " + b + "." + PgIdent.quote(k))
                .collect(Collectors.joining(" AND "));
    }

    private static List<String> present(Change ch, List<String> columns) {
        Set<String> have = Set.copyOf(ch.columns());
        return columns.stream().filter(have::contains).toList();
    }

    /**
     * The session's temp tables for {@code t}: one shaped like the moved columns, one like the key; created on first
     * use in this session, emptied at every commit.
     */
    private String temp(Connection c, ApplyTable t) throws SQLException {
        // named by the table and its shape: after a schema change (columns moved, a type on the target) the session
        // gets a temp table of the new shape instead of COPYing into one of the old
        String name = "tandem_apply_" + Integer.toHexString(t.target().ref().qualified().hashCode()) + "_"
                + Integer.toHexString(java.util.Objects.hash(t.columns(), t.target().columns()));
        Set<String> made = created.computeIfAbsent(c, k -> java.util.concurrent.ConcurrentHashMap.newKeySet());
        if (made.contains(name)) {
            return name;
        }
        String table = PgSql.table(t.target().ref());
        List<String> key = t.target().keyColumns().stream().map(KeyColumn::name).toList();
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE IF NOT EXISTS " + name + " ON COMMIT DELETE ROWS AS SELECT "
                    + PgSql.columns(t.columns()) + " FROM " + table + " WITH NO DATA");
            st.execute("CREATE TEMP TABLE IF NOT EXISTS " + name + "_k ON COMMIT DELETE ROWS AS SELECT "
                    + PgSql.columns(key) + " FROM " + table + " WITH NO DATA");
        }
        made.add(name);
        return name;
    }

    /** COPYs the given columns of {@code rows} (the key for deletes) into a temp table, in COPY's text format. */
    private static void copy(Connection c, String temp, List<String> columns, List<Change> rows, boolean keysOnly)
            throws SQLException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(rows.size() * 64);
        StringBuilder line = new StringBuilder();
        List<String> layout = null; // the changes of one table share their column list; map it once
        int[] at = null;
        for (Change ch : rows) {
            line.setLength(0);
            if (!keysOnly && ch.columns() != layout) {
                layout = ch.columns();
                at = new int[columns.size()];
                for (int i = 0; i < at.length; i++) {
                    at[i] = layout.indexOf(columns.get(i));
                }
            }
            for (int i = 0; i < columns.size(); i++) {
                if (i > 0) {
                    line.append('\t');
                }
                String v = keysOnly ? ch.key().get(i) : at[i] < 0 ? null : ch.values().get(at[i]);
                escape(line, v);
            }
            line.append('\n');
            out.writeBytes(line.toString().getBytes(StandardCharsets.UTF_8));
        }
        byte[] data = out.toByteArray();
        var copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + temp + " (" + PgSql.columns(columns)
                + ") FROM STDIN");
        try {
            copy.writeToCopy(data, 0, data.length);
            copy.endCopy();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }

    private static void escape(StringBuilder sb, String v) {
        if (v == null) {
            sb.append("\\N");
            return;
        }
        for (int i = 0; i < v.length(); i++) {
            char ch = v.charAt(i);
            switch (ch) {
                case '\\' -> sb.append("\\\\");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> sb.append(ch);
            }
        }
    }
}
