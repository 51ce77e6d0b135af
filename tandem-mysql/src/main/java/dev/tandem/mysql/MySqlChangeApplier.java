package dev.tandem.mysql;

import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Applies reduced changes to MySQL / MariaDB: deletes as {@code DELETE ... WHERE key IN (...)}, whole rows as
 * multi-row {@code INSERT ... ON DUPLICATE KEY UPDATE}, partial updates as one {@code UPDATE} per row, each value
 * bound as its column takes it ({@link MySqlInputs}), up to {@value #ROWS} rows (or about 4 MB) a statement. All of
 * it idempotent. The
 * session is {@link MySqlSql#configureWriting}'s: strict, foreign-key checks off; triggers on the target fire (MySQL
 * cannot turn them off for a session).
 * <p>Hazard: {@code ON DUPLICATE KEY UPDATE} acts on a clash with any unique key, not only the primary key that
 * PostgreSQL's {@code ON CONFLICT (key)} names. A row whose unique secondary value another row held a moment ago on
 * the source (two rows swapping a unique value across two batches) updates that other row instead of failing; the
 * next change of either row, and verification, set it right, but between the two the target shows a state the
 * source never had.
 */
final class MySqlChangeApplier implements ChangeApplier {
    static final int ROWS = 500;

    @Override
    public List<String> prepare(Connection target) throws SQLException {
        MySqlSql.configureWriting(target);
        return List.of();
    }

    @Override
    public void apply(Connection c, ApplyTable t, List<Change> changes) throws SQLException {
        List<Change> deletes = new ArrayList<>();
        Map<List<String>, List<Change>> upserts = new LinkedHashMap<>();
        Map<List<String>, List<Change>> partials = new LinkedHashMap<>();
        for (Change ch : changes) {
            switch (ch.kind()) {
                case DELETE -> deletes.add(ch);
                // a whole row has every moved column; one from before a column was added on both sides lacks some,
                // which then keep the target's default on insert and their value on update, as on the source
                case UPSERT -> upserts.computeIfAbsent(present(ch, t.columns()), k -> new ArrayList<>()).add(ch);
                case PARTIAL_UPDATE -> partials.computeIfAbsent(present(ch, t.columns()), k -> new ArrayList<>())
                        .add(ch);
                default -> {
                }
            }
        }
        TableInfo target = t.target();
        String table = MySqlSql.table(target.ref());
        List<KeyColumn> key = target.keyColumns();
        List<String> keyNames = key.stream().map(KeyColumn::name).toList();
        boolean newest = t.strategy() == ConflictResolution.Strategy.NEWEST_WINS && t.timestampColumn() != null;
        List<MySqlInputs.Input> keyInputs = inputs(target, keyNames);
        for (int from = 0; from < deletes.size(); from += ROWS) {
            List<Change> part = deletes.subList(from, Math.min(deletes.size(), from + ROWS));
            String tuple = MySqlSql.placeholders(key.size());
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE " + MySqlSql.tuple(key)
                    + " IN (" + String.join(", ", Collections.nCopies(part.size(), tuple)) + ")")) {
                int p = 1;
                for (Change d : part) {
                    for (int k = 0; k < key.size(); k++) {
                        ps.setObject(p++, keyInputs.get(k).bind(d.key().get(k)));
                    }
                }
                ps.executeUpdate();
            }
        }
        for (var e : upserts.entrySet()) {
            upsert(c, table, target, e.getKey(), keyNames, e.getValue(), newest ? t.timestampColumn() : null);
        }
        for (var e : partials.entrySet()) {
            List<String> cols = e.getKey();
            List<String> set = cols.stream().filter(col -> !keyNames.contains(col)).toList();
            if (set.isEmpty()) {
                continue;
            }
            boolean compare = newest && cols.contains(t.timestampColumn());
            String sql = "UPDATE " + table + " SET " + set.stream().map(col -> MySqlSql.quote(col) + " = ?")
                    .collect(Collectors.joining(", ")) + " WHERE " + MySqlSql.tuple(key) + " = "
                    + MySqlSql.placeholders(key.size()) + (compare ? " AND (" + MySqlSql.quote(t.timestampColumn())
                    + " IS NULL OR ? >= " + MySqlSql.quote(t.timestampColumn()) + ")" : "");
            List<MySqlInputs.Input> setInputs = inputs(target, set);
            MySqlInputs.Input ts = compare ? MySqlInputs.of(target.ref(), column(target, t.timestampColumn())) : null;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (Change ch : e.getValue()) {
                    int p = 1;
                    for (int i = 0; i < set.size(); i++) {
                        ps.setObject(p++, setInputs.get(i).bind(ch.values().get(ch.columns().indexOf(set.get(i)))));
                    }
                    for (int k = 0; k < key.size(); k++) {
                        ps.setObject(p++, keyInputs.get(k).bind(ch.key().get(k)));
                    }
                    if (ts != null) {
                        ps.setObject(p, ts.bind(ch.values().get(ch.columns().indexOf(t.timestampColumn()))));
                    }
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    /**
     * Whole rows (of the columns {@code cols}) by multi-row INSERT ... ON DUPLICATE KEY UPDATE. With
     * {@code newest_wins} each column is kept unless the incoming timestamp is not older, and the timestamp column is
     * assigned last: MySQL evaluates the assignments left to right, each seeing the ones before it.
     */
    private static void upsert(Connection c, String table, TableInfo target, List<String> cols, List<String> key,
                               List<Change> rows, String timestamp) throws SQLException {
        List<MySqlInputs.Input> in = inputs(target, cols);
        List<String> updated = new ArrayList<>(cols.stream().filter(col -> !key.contains(col)).toList());
        boolean compare = timestamp != null && cols.contains(timestamp);
        if (compare && updated.remove(timestamp)) {
            updated.add(timestamp);
        }
        String newer = compare ? "(" + MySqlSql.quote(timestamp) + " IS NULL OR VALUES(" + MySqlSql.quote(timestamp)
                + ") >= " + MySqlSql.quote(timestamp) + ")" : null;
        String tail = updated.isEmpty() ? " ON DUPLICATE KEY UPDATE " + MySqlSql.quote(key.get(0)) + " = "
                + MySqlSql.quote(key.get(0)) : " ON DUPLICATE KEY UPDATE " + updated.stream().map(col -> {
                    String q = MySqlSql.quote(col);
                    return q + " = " + (newer == null ? "VALUES(" + q + ")" : "IF(" + newer + ", VALUES(" + q + "), "
                            + q + ")");
                }).collect(Collectors.joining(", "));
        String one = MySqlSql.placeholders(cols.size());
        String tuple = one.startsWith("(") ? one : "(" + one + ")";
        int per = Math.max(1, Math.min(ROWS, 60_000 / Math.max(1, cols.size())));
        int from = 0;
        while (from < rows.size()) {
            // up to ROWS rows, and values well inside max_allowed_packet
            int to = from;
            long bytes = 0;
            while (to < rows.size() && to - from < per && (to == from || bytes < MySqlChunkWriter.BATCH_BYTES)) {
                bytes += rows.get(to++).sizeEstimate() / 2;
            }
            List<Change> part = rows.subList(from, to);
            from = to;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (" + MySqlSql.columns(cols)
                    + ") VALUES " + String.join(", ", Collections.nCopies(part.size(), tuple)) + tail)) {
                int p = 1;
                List<String> layout = null;
                int[] at = null;
                for (Change u : part) {
                    if (u.columns() != layout) {
                        layout = u.columns();
                        at = new int[cols.size()];
                        for (int i = 0; i < at.length; i++) {
                            at[i] = layout.indexOf(cols.get(i));
                        }
                    }
                    for (int i = 0; i < cols.size(); i++) {
                        ps.setObject(p++, in.get(i).bind(u.values().get(at[i])));
                    }
                }
                ps.executeUpdate();
            }
        }
    }

    @Override
    public void truncate(Connection c, ApplyTable t, KeyRange within, List<KeyRange> except) throws SQLException {
        // not TRUNCATE TABLE: in MySQL it commits the open transaction, and the caller commits the stream's position
        // with the rows it applied
        List<String> params = new ArrayList<>();
        String where = MySqlSql.predicate(within, params);
        StringBuilder keep = new StringBuilder();
        for (KeyRange r : except) {
            keep.append(keep.length() == 0 ? " AND NOT (" : " OR ").append('(').append(MySqlSql.predicate(r, params))
                    .append(')');
        }
        if (keep.length() > 0) {
            keep.append(')');
        }
        try (PreparedStatement ps = MySqlSql.prepare(c, "DELETE FROM " + MySqlSql.table(t.target().ref()) + " WHERE "
                + where + keep, params)) {
            ps.executeUpdate();
        }
    }

    private static List<MySqlInputs.Input> inputs(TableInfo target, List<String> names) throws SQLException {
        List<MySqlInputs.Input> out = new ArrayList<>(names.size());
        for (String n : names) {
            out.add(MySqlInputs.of(target.ref(), column(target, n)));
        }
        return out;
    }

    private static ColumnInfo column(TableInfo target, String name) throws SQLException {
        return target.column(name).orElseThrow(() -> new SQLException("no column " + name + " in " + target.ref()
                + " on the target"));
    }

    private static List<String> present(Change ch, List<String> columns) {
        Set<String> have = Set.copyOf(ch.columns());
        return columns.stream().filter(have::contains).toList();
    }
}
