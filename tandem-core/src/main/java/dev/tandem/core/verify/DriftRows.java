package dev.tandem.core.verify;

import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Checksums;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** What verify and continuous verification do with a row confirmed different: describe it, repair it. */
final class DriftRows {
    private static final int ABBREVIATE = 64;

    private DriftRows() {
    }

    /** The differing columns of a row present on both sides, with each side's value as reports show it. */
    static Map<String, List<String>> differingColumns(RowRecheck.Side source, RowRecheck.Side target,
                                                      List<String> key) throws SQLException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Optional<Checksums.Row> s = source.row(key);
        Optional<Checksums.Row> t = target.row(key);
        if (s.isEmpty() || t.isEmpty()) {
            return out;
        }
        List<String> columns = source.columns();
        for (int i = 0; i < columns.size(); i++) {
            String a = s.get().values().get(i);
            String b = t.get().values().get(i);
            if (!Objects.equals(a, b)) {
                out.put(columns.get(i), Arrays.asList(shown(columns.get(i), a), shown(columns.get(i), b)));
            }
        }
        return out;
    }

    /** A value as reports show it: long ones abbreviated, those of secret-looking columns masked. */
    static String shown(String column, String value) {
        if (value == null) {
            return null;
        }
        String c = column.toLowerCase(Locale.ROOT);
        if (c.contains("password") || c.contains("secret") || c.contains("token") || c.contains("api_key")) {
            return "***";
        }
        return value.length() <= ABBREVIATE ? value : value.substring(0, ABBREVIATE) + "... (" + value.length()
                + " chars)";
    }

    /**
     * Copies the row again from the source (an upsert, or a delete when the source has no such row), only if the
     * source row still has the hash {@code d} recorded when it was compared. The fix is written on the target first,
     * left uncommitted (the row stays locked there), then the source is read once more and the fix is committed only
     * if the row is still unchanged: a source change made after that read reaches the target through the stream
     * after this commit (its apply waits for the lock), one made before it makes this give up. So a newer write is
     * never clobbered, with or without a change stream running. {@code target}'s connection must not be in
     * auto-commit mode.
     *
     * @return true when repaired; false when the source row changed since it was compared (left for the next verify)
     */
    static boolean repair(RowRecheck.Side source, RowRecheck.Side target, ChangeApplier applier, String table,
                          RowRecheck.Suspect d) throws SQLException {
        Optional<Checksums.Row> now = source.row(d.key());
        if (!Objects.equals(now.map(Checksums.Row::hash).orElse(null), d.sourceHash())) {
            return false;
        }
        Connection t = target.connection();
        ChangeApplier.ApplyTable at = new ChangeApplier.ApplyTable(target.table(), target.columns(),
                ConflictResolution.Strategy.SOURCE_WINS, null);
        Change fix = now.isEmpty()
                ? new Change(Change.Kind.DELETE, table, d.key(), List.of(), List.of(), null, null, null)
                : new Change(Change.Kind.UPSERT, table, d.key(), source.columns(), now.get().values(), null, null,
                null);
        try {
            try {
                applier.apply(t, at, List.of(fix));
                applier.flush(t);
            } catch (SQLException e) {
                throw new RowRecheck.SideFailure(target.role(), e);
            }
            Long again = source.hashes(List.of(d.key())).get(d.key());
            if (!Objects.equals(again, d.sourceHash())) {
                applier.rolledBack(t);
                t.rollback();
                return false;
            }
            try {
                t.commit();
            } catch (SQLException e) {
                throw new RowRecheck.SideFailure(target.role(), e);
            }
            return true;
        } catch (SQLException | RuntimeException e) {
            applier.rolledBack(t);
            try {
                t.rollback();
            } catch (SQLException ignored) {
                // the connection is broken; the first error says why
            }
            throw e;
        }
    }
}
