package dev.tandem.core.cdc;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.StreamDirection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A migration's change streams in one place: their names (the slot and publication on the side each reads), the
 * capture each uses, opening and dropping them, and the runner that streams them. Nothing else derives a stream's
 * name or picks its capture, so plan, preflight, abort and the cutover all speak of the slot that exists.
 */
public final class Streams {
    /** Changes applied per target transaction, and per replay of held-back changes. */
    public static final int APPLY_BATCH = 4096;

    private Streams() {
    }

    /**
     * The slot and publication name of a migration's stream: forward {@code tandem_<id folded to [a-z0-9_], at most
     * 43 characters>_<8 hex digits of the exact id's SHA-256>}, reverse the same with {@code _rev}; at most 63
     * characters, PostgreSQL's limit. The hash is of the id as written, so ids that fold alike ({@code a-b},
     * {@code a_b}, {@code A.b}) never share a slot; {@link #owner} is recorded with what a stream creates, for the
     * rare hash collision and for a slot another store made.
     */
    public static String name(String migrationId, StreamDirection direction) {
        String folded = migrationId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        String forward = "tandem_" + folded.substring(0, Math.min(folded.length(), 43)) + "_" + hash(migrationId);
        return direction == StreamDirection.FORWARD ? forward : forward + "_rev";
    }

    /** What a stream's slot and publication are recorded as belonging to: the exact migration id. */
    public static String owner(String migrationId) {
        return "tandem migration " + migrationId;
    }

    private static String hash(String id) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * The forward stream's capture of {@code cdc.method}: the source connector's log-based one, or timestamp polling
     * (core, any JDBC source), which also reads the target's keys and so needs the jobs.
     */
    public static ChangeCapture capture(Manifest m, Connector source, Connector target, List<TableJob> jobs) {
        if (m.cdc().method() == Cdc.Method.TIMESTAMP_COLUMN) {
            Map<String, TableRef> targets = new HashMap<>();
            jobs.forEach(j -> targets.put(j.source().ref().qualified(), j.target().ref()));
            return new TimestampColumnCapture(source, target, m.cdc().timestampColumn(), m.cdc().pollInterval(),
                    m.cdc().overlapWindow(), targets);
        }
        return source.changeCapture().orElseThrow(() -> TandemException.badInput("cdc.method: the " + source.name()
                + " connector cannot stream changes yet; set cdc: {method: timestamp_column} or {method: none}"));
    }

    /** The reverse stream's capture: the target's log-based one. */
    public static ChangeCapture reverseCapture(Connector target) {
        return target.changeCapture().orElseThrow(() -> TandemException.badInput("the " + target.name()
                + " connector cannot stream changes, so there is no reverse stream for a rollback"));
    }

    /** The apply side's view of each table: moved columns, key, conflict rule (seed 000's per-table overrides). */
    public static Map<String, ChangeApplier.ApplyTable> applyTables(Manifest m, List<TableJob> jobs) {
        Map<String, ChangeApplier.ApplyTable> out = new HashMap<>();
        ConflictResolution cr = m.conflictResolution();
        for (TableJob j : jobs) {
            Optional<ConflictResolution.Override> o = cr.forTable(j.name());
            if (o.isEmpty()) {
                o = cr.forTable(j.source().ref().name());
            }
            ConflictResolution.Strategy st = o.map(ConflictResolution.Override::strategy).orElse(cr.defaultStrategy());
            String ts = o.map(ConflictResolution.Override::timestampColumn).orElse(null);
            if (ts == null) {
                ts = cr.timestampColumn() != null ? cr.timestampColumn() : m.cdc().timestampColumn();
            }
            if (st == ConflictResolution.Strategy.NEWEST_WINS && (ts == null || j.target().column(ts).isEmpty())) {
                throw TandemException.badInput("conflict_resolution: newest_wins for " + j.name() + " compares "
                        + "timestamp_column '" + ts + "', which the table does not have; name one of its columns");
            }
            out.put(j.name(), new ChangeApplier.ApplyTable(j.target(), j.columns(), st, ts));
        }
        return out;
    }

    /**
     * DESIGN.md point 1: opens the forward stream on the source (slot and publication, or timestamp watermarks) and
     * stores P0, unless its position is stored already. Returns P0 when it opened the stream now.
     */
    public static Optional<String> openForward(ControlStore store, Tables t) throws SQLException {
        Manifest m = t.manifest();
        if (store.positions().find(m.id(), StreamDirection.FORWARD).isPresent()) {
            return Optional.empty();
        }
        String name = name(m.id(), StreamDirection.FORWARD);
        if (m.cdc().apply() == Cdc.Apply.SOURCE_TRANSACTIONS) {
            // a record left by an earlier stream of the same name would make this one skip transactions
            forgetAppliedPosition(t.target(), name);
        }
        ChangeCapture capture = capture(m, t.source(), null, List.of());
        try (Connection c = t.source().connect()) {
            List<TableRef> tables = t.sourceTables().stream().map(TableInfo::ref).toList();
            String p0 = capture.open(c, name, owner(m.id()), tables);
            store.positions().open(m.id(), StreamDirection.FORWARD, capture.positionKind(), p0);
            return Optional.of(p0);
        }
    }

    /**
     * Drops the forward stream: its slot and publication on the source (nothing was created there for timestamp
     * polling) and the target's record of the position applied (source transactions). Its stored position stays, as
     * the record of where it ended (the cutover, which may resume a stream later, forgets it).
     */
    public static void dropForward(Manifest m, Connector source, Connector target) throws SQLException {
        String name = name(m.id(), StreamDirection.FORWARD);
        Optional<ChangeCapture> capture = m.cdc().method() == Cdc.Method.TIMESTAMP_COLUMN ? Optional.empty()
                : source.changeCapture();
        if (capture.isPresent()) {
            try (Connection c = source.connect()) {
                capture.get().drop(c, name, owner(m.id()));
            }
        }
        if (m.cdc().apply() == Cdc.Apply.SOURCE_TRANSACTIONS) {
            forgetAppliedPosition(target, name);
        }
    }

    /** Opens the reverse stream on the target (dropping one an earlier attempt left) and stores its P0. */
    public static void openReverse(ControlStore store, String migrationId, Connector target, List<TableJob> jobs)
            throws SQLException {
        ChangeCapture capture = reverseCapture(target);
        String name = name(migrationId, StreamDirection.REVERSE);
        store.positions().delete(migrationId, StreamDirection.REVERSE);
        try (Connection t = target.connect()) {
            capture.drop(t, name, owner(migrationId)); // left by an earlier attempt that died
            List<TableRef> tables = jobs.stream().map(j -> j.target().ref()).toList();
            String p0 = capture.open(t, name, owner(migrationId), tables);
            store.positions().open(migrationId, StreamDirection.REVERSE, capture.positionKind(), p0);
        }
    }

    /** Drops the reverse stream on the target and forgets its position. */
    public static void dropReverse(ControlStore store, String migrationId, Connector target) throws SQLException {
        Optional<ChangeCapture> capture = target.changeCapture();
        if (capture.isPresent()) {
            try (Connection t = target.connect()) {
                capture.get().drop(t, name(migrationId, StreamDirection.REVERSE), owner(migrationId));
            }
        }
        store.positions().delete(migrationId, StreamDirection.REVERSE);
    }

    /**
     * Source-transaction mode: removes the target's record of the position a stream applied up to (a new stream
     * starts, or the stream was dropped).
     */
    public static void forgetAppliedPosition(Connector target, String streamName) throws SQLException {
        Optional<ChangeApplier> a = target.changeApplier();
        if (a.isEmpty()) {
            return;
        }
        Optional<ChangeApplier.AppliedPositions> positions = a.get().appliedPositions();
        if (positions.isEmpty()) {
            return;
        }
        try (Connection c = target.connect()) {
            positions.get().forget(c, streamName);
        }
    }
}
