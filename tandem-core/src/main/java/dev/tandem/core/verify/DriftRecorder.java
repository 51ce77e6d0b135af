package dev.tandem.core.verify;

import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftKind;
import dev.tandem.core.store.DriftLog;
import dev.tandem.core.store.KeyJson;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code tandem verify} and continuous verification do with a row confirmed different, in one place: it is
 * stored under the verify run (tandem_drift) with its kind and differing columns, and — when asked — repaired from the
 * source, conditionally, and marked repaired.
 */
final class DriftRecorder {
    private static final int ABBREVIATE = 64;
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private final ControlStore store;
    private final long runId;

    DriftRecorder(ControlStore store, long runId) {
        this.store = store;
        this.runId = runId;
    }

    /** A stored drift row: its key as stored, and per differing column the source and target values as shown. */
    record Recorded(String table, String keyJson, Map<String, List<String>> differing) {
    }

    /** Stores the confirmed difference {@code d} of {@code table}, found in chunk {@code chunkNo}. */
    Recorded record(String table, int chunkNo, RowRecheck.Suspect d, RowRecheck.Side s, RowRecheck.Side t)
            throws SQLException {
        boolean mismatch = d.kind() == DriftKind.MISMATCH;
        Map<String, List<String>> differing = mismatch ? differingColumns(s, t, d.key()) : Map.of();
        String keyJson = KeyJson.write(d.key());
        store.drift().record(new DriftLog.DriftRow(runId, table, chunkNo, keyJson, d.kind(),
                mismatch ? KeyJson.write(new ArrayList<>(differing.keySet())) : null, null, null));
        return new Recorded(table, keyJson, differing);
    }

    /** Stores a column difference of {@code table} (chunk -1: found before any row was compared). */
    void recordSchema(String table, SchemaComparison.Difference d) {
        String key = JSON.createObjectNode().put("column", d.column()).toString();
        store.drift().record(new DriftLog.DriftRow(runId, table, -1, key, DriftKind.SCHEMA,
                KeyJson.write(List.of(d.column())), null, null));
    }

    /**
     * Repairs a recorded row ({@link #repair(RowRecheck.Side, RowRecheck.Side, ChangeApplier, String,
     * RowRecheck.Suspect)}) and marks it repaired; false when the source row changed since it was compared.
     */
    boolean repaired(Recorded r, RowRecheck.Suspect d, RowRecheck.Side s, RowRecheck.Side t, ChangeApplier applier)
            throws SQLException {
        if (!repair(s, t, applier, r.table(), d)) {
            return false;
        }
        store.drift().repaired(runId, r.table(), r.keyJson());
        return true;
    }

    /** The differing columns of a row present on both sides, with each side's value as reports show it. */
    private static Map<String, List<String>> differingColumns(RowRecheck.Side source, RowRecheck.Side target,
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
    private static boolean repair(RowRecheck.Side source, RowRecheck.Side target, ChangeApplier applier,
                                  String table, RowRecheck.Suspect d) throws SQLException {
        Optional<Checksums.Row> now = source.row(d.key());
        if (!Objects.equals(now.map(Checksums.Row::hash).orElse(null), d.sourceHash())) {
            return false;
        }
        Connection t = target.connection();
        ChangeApplier.ApplyTable at = new ChangeApplier.ApplyTable(target.table(), target.columns(),
                ConflictResolution.Strategy.SOURCE_WINS, null);
        Change fix = now.isEmpty()
                ? new Change(Change.Kind.DELETE, table, d.key(), List.of(), List.of(), null, null, null)
                : new Change(Change.Kind.UPSERT, table, d.key(), source.columns(), now.get().written(), null, null,
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
