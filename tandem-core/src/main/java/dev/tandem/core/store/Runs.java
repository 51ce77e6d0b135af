package dev.tandem.core.store;

import dev.tandem.core.error.TandemException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Tracked runs and their chunks (seed 003). A chunk's status only changes by compare-and-set from the status
 * the caller expects, so two workers can never both take one chunk, and a crash leaves statuses a later run can
 * trust.
 */
public final class Runs {
    private static final String RUN_COLUMNS = "run_id, migration_id, kind, status, prev_run_id, range_min, range_max, "
            + "run_info, rows_per_second, created_at, started_at, ended_at, chunks_planned";
    private static final String CHUNK_COLUMNS = "run_id, table_name, chunk_no, key_min, key_min_inclusive, key_max, "
            + "status, rows_estimated, target_empty, rows_done, bytes_done, attempts, error, updated_at";

    private final ControlStore store;

    Runs(ControlStore store) {
        this.store = store;
    }

    /**
     * A run about to be stored.
     *
     * @param migrationId the migration it belongs to, or null (a verify of a manifest with no migration here)
     * @param prevRunId   the run whose unfinished chunks it redoes, or null
     * @param rangeMin    seed 003's custom range, or null
     * @param info        what it is, for people, or null
     * @param rowsPerSecond its throttle; 0: none
     */
    public record NewRun(String migrationId, RunRecord.Kind kind, Long prevRunId, String rangeMin, String rangeMax,
                         String info, long rowsPerSecond) {
    }

    /**
     * Stores a new run, NOT_STARTED, with its planned chunks and their number, in one durable transaction: when this
     * returns, the whole plan survives a kill -9, and before it nothing of it does.
     */
    public RunRecord create(NewRun run, List<ChunkRecord> chunks) {
        String migrationId = run.migrationId();
        RunRecord.Kind kind = run.kind();
        Long prevRunId = run.prevRunId();
        String rangeMin = run.rangeMin();
        String rangeMax = run.rangeMax();
        String runInfo = run.info();
        long rowsPerSecond = run.rowsPerSecond();
        return store.transaction("create a run", c -> {
            Instant now = store.now();
            long runId = now.getEpochSecond() * 1_000_000_000L + now.getNano();
            while (find(c, runId).isPresent()) {
                runId++;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_runs (" + RUN_COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)")) {
                ps.setLong(1, runId);
                ps.setString(2, migrationId);
                ps.setString(3, kind.name());
                ps.setString(4, RunStatus.NOT_STARTED.name());
                ps.setObject(5, prevRunId);
                ps.setString(6, rangeMin);
                ps.setString(7, rangeMax);
                ps.setString(8, runInfo);
                ps.setLong(9, rowsPerSecond);
                ps.setObject(10, ControlStore.ts(now));
                ps.setInt(11, chunks.size());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tandem_chunks (" + CHUNK_COLUMNS
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, NULL, ?)")) {
                int batched = 0;
                for (ChunkRecord ch : chunks) {
                    ps.setLong(1, runId);
                    ps.setString(2, ch.tableName());
                    ps.setInt(3, ch.chunkNo());
                    ps.setString(4, ch.keyMin());
                    ps.setBoolean(5, ch.keyMinInclusive());
                    ps.setString(6, ch.keyMax());
                    ps.setString(7, ChunkStatus.NOT_STARTED.name());
                    ps.setLong(8, ch.rowsEstimated());
                    ps.setBoolean(9, ch.targetEmpty());
                    ps.setObject(10, ControlStore.ts(now));
                    ps.addBatch();
                    if (++batched % 1000 == 0) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            return new RunRecord(runId, migrationId, kind, RunStatus.NOT_STARTED, prevRunId, rangeMin, rangeMax,
                    runInfo, rowsPerSecond, now, null, null, chunks.size());
        });
    }

    /** Moves a run from {@code expected} to {@code next}; stamps started_at / ended_at. */
    public void setStatus(long runId, RunStatus expected, RunStatus next) {
        store.transaction("mark run " + runId + " " + next, c -> {
            String stamp = next == RunStatus.STARTED ? ", started_at = ?" : next == RunStatus.ENDED ? ", ended_at = ?" : "";
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_runs SET status = ?" + stamp
                    + " WHERE run_id = ? AND status = ?")) {
                int i = 1;
                ps.setString(i++, next.name());
                if (!stamp.isEmpty()) {
                    ps.setObject(i++, ControlStore.ts(store.now()));
                }
                ps.setLong(i++, runId);
                ps.setString(i, expected.name());
                if (ps.executeUpdate() != 1) {
                    RunStatus actual = find(c, runId).map(RunRecord::status).orElse(null);
                    throw TandemException.badState("cannot mark run " + runId + " " + next + ": expected "
                            + expected + ", actual " + actual);
                }
            }
            return null;
        });
    }

    /** Records what happened to a run, for people (why it stopped, say). */
    public void setInfo(long runId, String info) {
        update("describe run " + runId, "UPDATE tandem_runs SET run_info = ? WHERE run_id = ?", info, runId);
    }

    /** Changes a run's rows/s throttle; its workers pick it up within a second. 0 means unlimited. */
    public void setThrottle(long runId, long rowsPerSecond) {
        if (rowsPerSecond < 0) {
            throw TandemException.badInput("rows per second " + rowsPerSecond + " is negative; use 0 for unlimited "
                    + "or a positive number");
        }
        if (update("throttle run " + runId, "UPDATE tandem_runs SET rows_per_second = ? WHERE run_id = ?",
                rowsPerSecond, runId) != 1) {
            throw TandemException.notFound("run " + runId + " not found in the control store " + store.display());
        }
    }

    private int update(String what, String sql, Object a, long runId) {
        return store.transaction(what, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setObject(1, a);
                ps.setLong(2, runId);
                return ps.executeUpdate();
            }
        });
    }

    /**
     * Moves a chunk from {@code expected} to {@code next}, recording its progress. Returns false (changing nothing)
     * when the chunk is no longer in {@code expected}: someone else took it. Entering STARTED counts an attempt.
     */
    public boolean markChunk(ChunkRecord chunk, ChunkStatus expected, ChunkStatus next, long rowsDone, long bytesDone,
                             String error) {
        long runId = chunk.runId();
        String table = chunk.tableName();
        int chunkNo = chunk.chunkNo();
        return store.transaction("mark chunk " + table + "#" + chunkNo, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_chunks SET status = ?, rows_done = ?, "
                    + "bytes_done = ?, error = ?, updated_at = ?, attempts = attempts + ? WHERE run_id = ? "
                    + "AND table_name = ? AND chunk_no = ? AND status = ?")) {
                ps.setString(1, next.name());
                ps.setLong(2, rowsDone);
                ps.setLong(3, bytesDone);
                ps.setString(4, error);
                ps.setObject(5, ControlStore.ts(store.now()));
                ps.setInt(6, next == ChunkStatus.STARTED ? 1 : 0);
                ps.setLong(7, runId);
                ps.setString(8, table);
                ps.setInt(9, chunkNo);
                ps.setString(10, expected.name());
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * Marks the NOT_STARTED chunks of the table PASS in one transaction, with {@code rows} done (a verify found the
     * whole table, one chunk, equal at once). Returns how many were marked.
     */
    public int passTable(long runId, String table, long rows) {
        return store.transaction("mark the chunks of " + table + " PASS", c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE tandem_chunks SET status = ?, rows_done = ?, "
                    + "updated_at = ? WHERE run_id = ? AND table_name = ? AND status = ?")) {
                ps.setString(1, ChunkStatus.PASS.name());
                ps.setLong(2, rows);
                ps.setObject(3, ControlStore.ts(store.now()));
                ps.setLong(4, runId);
                ps.setString(5, table);
                ps.setString(6, ChunkStatus.NOT_STARTED.name());
                return ps.executeUpdate();
            }
        });
    }

    /**
     * Whether the store holds every chunk {@code run} was planned with. False means the store lost writes (an
     * embedded store killed before it wrote its last second through, before writes were made durable): the missing
     * ranges must not be taken for done. Runs stored before the count was recorded are taken as whole.
     */
    public boolean planIntact(RunRecord run) {
        if (run.chunksPlanned() == null) {
            return true;
        }
        long stored = chunkCounts(run.runId()).values().stream().mapToLong(Long::longValue).sum();
        return stored == run.chunksPlanned();
    }

    public Optional<RunRecord> find(long runId) {
        return store.read("read run " + runId, c -> find(c, runId));
    }

    /** The run, or a NOT_FOUND error naming it. */
    public RunRecord get(long runId) {
        return find(runId).orElseThrow(() -> TandemException.notFound("run " + runId + " not found in the control "
                + "store " + store.display() + "; list runs with tandem runs MIGRATION_ID"));
    }

    /** The migration's runs, newest first (like seed 003's {@code ORDER BY run_id DESC}). */
    public List<RunRecord> list(String migrationId) {
        return store.read("list runs of " + migrationId, c -> {
            List<RunRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM tandem_runs "
                    + "WHERE migration_id = ? ORDER BY run_id DESC")) {
                ps.setString(1, migrationId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(mapRun(rs));
                    }
                }
            }
            return out;
        });
    }

    /** The run's chunks in table and key order, optionally only those with one status. */
    public List<ChunkRecord> chunks(long runId, ChunkStatus onlyStatus) {
        return store.read("list chunks of run " + runId, c -> {
            List<ChunkRecord> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + CHUNK_COLUMNS + " FROM tandem_chunks "
                    + "WHERE run_id = ?" + (onlyStatus == null ? "" : " AND status = ?")
                    + " ORDER BY table_name, chunk_no")) {
                ps.setLong(1, runId);
                if (onlyStatus != null) {
                    ps.setString(2, onlyStatus.name());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new ChunkRecord(rs.getLong("run_id"), rs.getString("table_name"),
                                rs.getInt("chunk_no"), rs.getString("key_min"), rs.getBoolean("key_min_inclusive"),
                                rs.getString("key_max"), ChunkStatus.valueOf(rs.getString("status")),
                                rs.getLong("rows_estimated"), rs.getBoolean("target_empty"), rs.getLong("rows_done"),
                                rs.getLong("bytes_done"),
                                rs.getInt("attempts"), rs.getString("error"), ControlStore.instant(rs, "updated_at")));
                    }
                }
            }
            return out;
        });
    }

    /**
     * The chunks of {@code runId} a next run redoes (seed 003: NOT_STARTED, STARTED, FAIL and DIFF), in table and key
     * order, as they are stored.
     */
    public List<ChunkRecord> toRedo(long runId) {
        return chunks(runId, null).stream().filter(c -> c.status().isRedoneByNextRun()).toList();
    }

    /** How many of the run's chunks are in each status. */
    public Map<ChunkStatus, Long> chunkCounts(long runId) {
        return store.read("count chunks of run " + runId, c -> {
            Map<ChunkStatus, Long> out = new EnumMap<>(ChunkStatus.class);
            try (PreparedStatement ps = c.prepareStatement("SELECT status, count(*) FROM tandem_chunks WHERE run_id = ? "
                    + "GROUP BY status")) {
                ps.setLong(1, runId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(ChunkStatus.valueOf(rs.getString(1)), rs.getLong(2));
                    }
                }
            }
            return out;
        });
    }

    private static Optional<RunRecord> find(Connection c, long runId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + RUN_COLUMNS + " FROM tandem_runs WHERE run_id = ?")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(mapRun(rs)) : Optional.empty();
            }
        }
    }

    private static RunRecord mapRun(ResultSet rs) throws SQLException {
        long prev = rs.getLong("prev_run_id");
        Long prevRun = rs.wasNull() ? null : prev;
        return new RunRecord(rs.getLong("run_id"), rs.getString("migration_id"),
                RunRecord.Kind.valueOf(rs.getString("kind")), RunStatus.valueOf(rs.getString("status")), prevRun,
                rs.getString("range_min"), rs.getString("range_max"), rs.getString("run_info"),
                rs.getLong("rows_per_second"), ControlStore.instant(rs, "created_at"),
                ControlStore.instant(rs, "started_at"), ControlStore.instant(rs, "ended_at"),
                rs.getObject("chunks_planned", Integer.class));
    }
}
