package dev.tandem.core.engine;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.backfill.KeyJson;
import dev.tandem.core.backfill.TableJob;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code tandem verify}: compares the manifest's tables on source and target, chunk by chunk (DESIGN.md
 * correctness point 5). Per chunk both databases compute a count and an order-independent checksum of the same
 * columns; a chunk whose sums differ is compared row by row (each side streams its rows' key and hash; the source's
 * side of one chunk is held in memory, so memory is bounded by {@code data.chunk_rows}, never by the table). Every
 * differing row is stored with its key (tandem_drift), the chunk becomes DIFF; with repair, each such row is copied
 * again from the source — only if the source row still has the hash it had when compared, so a newer write is never
 * clobbered — and the chunk becomes DIFF_CORRECTED once all of its rows are repaired.
 * <p>Not yet here: the lag-aware recheck of a running change stream (a difference is reported as found), a
 * cross-engine comparison, parallel chunk workers.
 */
public final class VerifyRunner {
    /** Differing rows reported per table with their columns; all of them are stored. */
    static final int SAMPLES = 10;
    private static final int ABBREVIATE = 64;

    private final ControlStore store;
    private final ConnectorRegistry registry;
    private final Consumer<String> say;

    public VerifyRunner(ControlStore store, ConnectorRegistry registry, Consumer<String> say) {
        this.store = store;
        this.registry = registry;
        this.say = say;
    }

    /** {@code --prev-run}: verify again only the chunks of that run that were not equal or not reached. */
    public record Options(Long prevRunId, boolean repair) {
    }

    /** One differing row: its key, what differs, and per differing column the source and target values. */
    public record Sample(List<String> key, String kind, Map<String, List<String>> columns) {
    }

    /** Per table, as Vitess VDiff reports it. */
    public record TableReport(String table, long processed, long matching, long mismatched, long extraOnSource,
                              long extraOnTarget, long repaired, long changedSinceCompared, List<Sample> samples) {
        public long differing() {
            return mismatched + extraOnSource + extraOnTarget;
        }
    }

    public record Report(long runId, String migrationId, List<TableReport> tables, double seconds) {
        public long differing() {
            return tables.stream().mapToLong(TableReport::differing).sum();
        }

        public long unrepaired() {
            return differing() - tables.stream().mapToLong(TableReport::repaired).sum();
        }
    }

    public Report verify(Manifest m, Options opts) {
        long t0 = System.nanoTime();
        Connector source = connector(m, true);
        Connector target = connector(m, false);
        Checksums sourceSums = source.checksums().orElse(null);
        Checksums targetSums = target.checksums().orElse(null);
        if (sourceSums == null || targetSums == null || !source.name().equals(target.name())) {
            throw TandemException.badInput("verify compares inside the databases when both are the same engine with "
                    + "checksum support (PostgreSQL); " + source.name() + " to " + target.name() + " is not supported "
                    + "yet");
        }
        try {
            Map<String, TableJob> jobs = jobs(m, source, target);
            String migrationId = store.migrations().find(m.id()).isPresent() ? m.id() : null;
            RunRecord run = createRun(m, migrationId, source, jobs, opts);
            List<ChunkRecord> chunks = store.runs().chunks(run.runId(), null);
            say.accept("Verify run " + run.runId() + ": " + chunks.size() + " chunks of " + jobs.size() + " tables"
                    + (opts.repair() ? ", repairing differing rows from the source" : ""));
            store.runs().setStatus(run.runId(), RunStatus.NOT_STARTED, RunStatus.STARTED);
            Map<String, Tally> tallies = new LinkedHashMap<>();
            jobs.keySet().forEach(t -> tallies.put(t, new Tally()));
            Optional<ChangeApplier> repairer = opts.repair() ? target.changeApplier() : Optional.empty();
            if (opts.repair() && repairer.isEmpty()) {
                throw TandemException.badInput("--repair needs a target that can apply rows; " + target.name()
                        + " cannot yet");
            }
            long done = 0;
            long lastSay = System.nanoTime();
            try (Connection s = source.connect(); Connection t = target.connect()) {
                if (repairer.isPresent()) {
                    t.setAutoCommit(false);
                    repairer.get().prepare(t);
                }
                for (ChunkRecord chunk : chunks) {
                    TableJob job = jobs.get(chunk.tableName());
                    Tally tally = tallies.get(chunk.tableName());
                    store.runs().markChunk(run.runId(), chunk.tableName(), chunk.chunkNo(), ChunkStatus.NOT_STARTED,
                            ChunkStatus.STARTED, 0, 0, null);
                    ChunkStatus status = verifyChunk(run.runId(), chunk, job, s, t, sourceSums, targetSums,
                            repairer.orElse(null), tally);
                    store.runs().markChunk(run.runId(), chunk.tableName(), chunk.chunkNo(), ChunkStatus.STARTED,
                            status, tally.lastChunkRows, 0, null);
                    done++;
                    if (System.nanoTime() - lastSay > 5_000_000_000L) {
                        lastSay = System.nanoTime();
                        double secs = (lastSay - t0) / 1e9;
                        long rows = tallies.values().stream().mapToLong(x -> x.processed).sum();
                        say.accept(String.format(Locale.ROOT, "  %d/%d chunks, %,d rows compared (%,.0f rows/s), "
                                + "ETA %.0f s", done, chunks.size(), rows, rows / secs,
                                secs / done * (chunks.size() - done)));
                    }
                }
            }
            store.runs().setStatus(run.runId(), RunStatus.STARTED, RunStatus.ENDED);
            List<TableReport> tables = new ArrayList<>();
            tallies.forEach((name, x) -> tables.add(new TableReport(name, x.processed, x.matching, x.mismatched,
                    x.extraOnSource, x.extraOnTarget, x.repaired, x.changed, List.copyOf(x.samples))));
            return new Report(run.runId(), migrationId, tables, (System.nanoTime() - t0) / 1e9);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "verify failed: " + m.source().scrub(m.target().scrub(
                    String.valueOf(e.getMessage()))), e);
        }
    }

    /** Running counts of one table. */
    private static final class Tally {
        long processed;
        long matching;
        long mismatched;
        long extraOnSource;
        long extraOnTarget;
        long repaired;
        long changed;
        long lastChunkRows;
        final List<Sample> samples = new ArrayList<>();
    }

    private ChunkStatus verifyChunk(long runId, ChunkRecord chunk, TableJob job, Connection s, Connection t,
                                    Checksums sourceSums, Checksums targetSums, ChangeApplier repairer, Tally tally)
            throws SQLException {
        KeyRange sourceRange = job.sourceRange(chunk);
        KeyRange targetRange = job.targetRange(chunk);
        Checksums.RangeChecksum sc = sourceSums.checksum(s, job.source(), job.columns(), sourceRange);
        Checksums.RangeChecksum tc = targetSums.checksum(t, job.target(), job.columns(), targetRange);
        tally.processed += sc.rows();
        tally.lastChunkRows = sc.rows();
        if (sc.equals(tc)) {
            tally.matching += sc.rows();
            return ChunkStatus.PASS;
        }
        // Row by row: the source's hashes of this chunk in memory, the target's streamed against them.
        Map<List<String>, Long> sourceRows = new HashMap<>();
        sourceSums.rowHashes(s, job.source(), job.columns(), sourceRange, (key, hash) -> sourceRows.put(key, hash));
        List<Diff> diffs = new ArrayList<>();
        long[] matching = {0};
        targetSums.rowHashes(t, job.target(), job.columns(), targetRange, (key, hash) -> {
            Long sh = sourceRows.remove(key);
            if (sh == null) {
                diffs.add(new Diff(key, "extra_on_target", null));
            } else if (sh != hash) {
                diffs.add(new Diff(key, "mismatch", sh));
            } else {
                matching[0]++;
            }
        });
        sourceRows.forEach((key, hash) -> diffs.add(new Diff(key, "missing_on_target", hash)));
        tally.matching += matching[0];
        int repaired = 0;
        for (Diff d : diffs) {
            List<String> columns = null;
            if (d.kind.equals("mismatch")) {
                tally.mismatched++;
            } else if (d.kind.equals("missing_on_target")) {
                tally.extraOnSource++;
            } else {
                tally.extraOnTarget++;
            }
            Optional<Checksums.Row> now = sourceSums.row(s, job.source(), job.columns(), d.key);
            Optional<Checksums.Row> there = targetSums.row(t, job.target(), job.columns(), d.key);
            Map<String, List<String>> differing = new LinkedHashMap<>();
            if (now.isPresent() && there.isPresent()) {
                for (int i = 0; i < job.columns().size(); i++) {
                    String a = now.get().values().get(i);
                    String b = there.get().values().get(i);
                    if (a == null ? b != null : !a.equals(b)) {
                        differing.put(job.columns().get(i), java.util.Arrays.asList(shown(job.columns().get(i), a),
                                shown(job.columns().get(i), b)));
                    }
                }
                columns = new ArrayList<>(differing.keySet());
            }
            String keyJson = KeyJson.write(d.key);
            store.drift().record(new DriftLog.DriftRow(runId, job.name(), chunk.chunkNo(), keyJson, d.kind,
                    columns == null ? null : KeyJson.write(columns), null, null));
            if (tally.samples.size() < SAMPLES) {
                tally.samples.add(new Sample(d.key, d.kind, differing));
            }
            if (repairer != null) {
                boolean unchanged = d.sourceHash == null ? now.isEmpty()
                        : now.isPresent() && now.get().hash() == d.sourceHash;
                if (!unchanged) {
                    tally.changed++;
                    continue;
                }
                ChangeApplier.ApplyTable at = new ChangeApplier.ApplyTable(job.target(), job.columns(),
                        ConflictResolution.Strategy.SOURCE_WINS, null);
                Change fix = now.isEmpty()
                        ? new Change(Change.Kind.DELETE, job.name(), d.key, List.of(), List.of(), null, null, null)
                        : new Change(Change.Kind.UPSERT, job.name(), d.key, job.columns(), now.get().values(), null,
                        null, null);
                repairer.apply(t, at, List.of(fix));
                repairer.flush(t);
                t.commit();
                store.drift().repaired(runId, job.name(), keyJson);
                tally.repaired++;
                repaired++;
            }
        }
        if (diffs.isEmpty()) {
            return ChunkStatus.PASS; // the sums differed only in a way the rows do not (cannot happen with equal rows)
        }
        return repaired == diffs.size() ? ChunkStatus.DIFF_CORRECTED : ChunkStatus.DIFF;
    }

    /** A differing row; {@code sourceHash} null when the source has no such row. */
    private record Diff(List<String> key, String kind, Long sourceHash) {
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

    private Connector connector(Manifest m, boolean sourceSide) {
        try {
            return registry.select(sourceSide ? m.source() : m.target(), sourceSide ? "source" : "target");
        } catch (SQLException e) {
            throw new TandemException(sourceSide ? ErrorCode.SOURCE : ErrorCode.TARGET, "cannot connect to the "
                    + (sourceSide ? "source" : "target") + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, TableJob> jobs(Manifest m, Connector source, Connector target) throws SQLException {
        Map<String, TableJob> out = new LinkedHashMap<>();
        try (Connection t = target.connect()) {
            for (TableInfo s : MigrationRunner.sourceTables(source, m)) {
                TableInfo ti = target.introspector().describe(t, s.ref()).orElseThrow(() -> TandemException.badInput(
                        "table " + s.ref() + " is missing on the target; verify compares tables that exist on both "
                                + "sides (migrate first, or narrow scope)"));
                List<String> columns = s.copiedColumns().stream().filter(col -> ti.column(col).isPresent()).toList();
                out.put(s.ref().qualified(), new TableJob(s, ti, columns, null));
            }
        }
        return out;
    }

    private RunRecord createRun(Manifest m, String migrationId, Connector source, Map<String, TableJob> jobs,
                                Options opts) throws SQLException {
        if (opts.prevRunId() != null) {
            RunRecord prev = store.runs().get(opts.prevRunId());
            if (prev.kind() != RunRecord.Kind.VERIFY) {
                throw TandemException.badInput("--prev-run " + prev.runId() + " is a " + prev.kind().name()
                        .toLowerCase(Locale.ROOT) + " run, not a verify run; list runs with tandem runs " + m.id());
            }
            List<ChunkRecord> redo = new ArrayList<>();
            for (ChunkRecord c : store.runs().chunks(prev.runId(), null)) {
                if (c.status().isRedoneByNextRun() && jobs.containsKey(c.tableName())) {
                    redo.add(ChunkRecord.planned(c.tableName(), c.chunkNo(), c.keyMin(), c.keyMinInclusive(),
                            c.keyMax(), c.rowsEstimated(), false));
                }
            }
            return store.runs().create(migrationId, RunRecord.Kind.VERIFY, prev.runId(), null, null,
                    "verify again the unequal chunks of run " + prev.runId(), 0, redo);
        }
        KeySampler sampler = source.keySampler().orElseThrow(() -> TandemException.badInput("the " + source.name()
                + " connector cannot split tables into chunks yet"));
        ChunkPlanner planner = new ChunkPlanner(sampler, m.data().chunkRows());
        List<ChunkRecord> chunks = new ArrayList<>();
        try (Connection c = source.connect()) {
            for (TableJob job : jobs.values()) {
                List<ChunkPlanner.PlannedChunk> planned = planner.plan(c, job.source(),
                        KeyRange.all(job.source().keyColumns()));
                // Unlike a copy's, the first and last ranges are open: rows only the target has, below the
                // source's least key or above its greatest, are differences too.
                for (int no = 0; no < planned.size(); no++) {
                    KeyRange r = planned.get(no).range();
                    chunks.add(ChunkRecord.planned(job.name(), no, no == 0 ? null : KeyJson.write(r.lower()),
                            no != 0 && r.lowerInclusive(), no == planned.size() - 1 ? null : KeyJson.write(r.upper()),
                            planned.get(no).estimatedRows(), false));
                }
                if (planned.isEmpty()) {
                    chunks.add(ChunkRecord.planned(job.name(), 0, null, false, null, 0, false));
                }
            }
        }
        return store.runs().create(migrationId, RunRecord.Kind.VERIFY, null, null, null,
                migrationId == null ? "verify of " + m.id() + " (no migration of that id in this store)" : "verify",
                0, chunks);
    }
}
