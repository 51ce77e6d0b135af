package dev.tandem.core.verify;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cdc.TimestampColumnCapture;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.RowReader;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.DriftLog;
import dev.tandem.core.store.KeyJson;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import dev.tandem.core.store.StreamDirection;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * {@code tandem verify}: compares the manifest's tables on source and target, chunk by chunk (DESIGN.md
 * correctness point 5). Per chunk both databases compute a count and an order-independent checksum of the same
 * columns; a chunk whose sums differ is compared row by row (each side streams its rows' key and hash; the source's
 * side of one chunk is held in memory, so memory is bounded by {@code data.chunk_rows}, never by the table). Every
 * differing row is stored with its key (tandem_drift), the chunk becomes DIFF; with repair, each such row is copied
 * again from the source — only if the source row still has the hash it had when compared, so a newer write is never
 * clobbered — and the chunk becomes DIFF_CORRECTED once all of its rows are repaired.
 * <p>Lag-aware: when the manifest's migration streams changes (catch-up), a differing row is only a suspect until
 * {@link RowRecheck} confirms it after the target applied past the source position of the comparison; rows that keep
 * changing are reported as in flight, never as drift.
 * <p>Between two different engines (or any without in-database checksums) both sides' rows are read and hashed by
 * Tandem ({@link CanonicalChecksums}), and differing rows are compared once more by key before they count, since the
 * engines' collations may draw a chunk's bounds around different rows.
 */
public final class VerifyRunner {
    /** Differing rows reported per table with their columns; all of them are stored. */
    static final int SAMPLES = 10;
    /** How long a recheck waits for the change stream to apply past the source position. */
    private static final Duration RECHECK_TIMEOUT = Duration.ofSeconds(60);

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
                              long extraOnTarget, long repaired, long changedSinceCompared, long inFlight,
                              List<Sample> samples) {
        public long differing() {
            return mismatched + extraOnSource + extraOnTarget;
        }
    }

    /**
     * @param lagAware    differences were rechecked against a running change stream
     * @param whyInFlight null, or why some differences could not be rechecked (the stream did not catch up)
     */
    public record Report(long runId, String migrationId, List<TableReport> tables, double seconds, boolean lagAware,
                         String whyInFlight) {
        public long inFlight() {
            return tables.stream().mapToLong(TableReport::inFlight).sum();
        }

        public long differing() {
            return tables.stream().mapToLong(TableReport::differing).sum();
        }

        public long unrepaired() {
            return differing() - tables.stream().mapToLong(TableReport::repaired).sum();
        }
    }

    public Report verify(Manifest m, Options opts) {
        long t0 = System.nanoTime();
        Tables sides = Tables.of(registry, m);
        Connector source = sides.source();
        Connector target = sides.target();
        try {
            Map<String, TableJob> jobs = sides.compareJobs();
            boolean inDatabase = source.name().equals(target.name()) && source.checksums().isPresent()
                    && target.checksums().isPresent();
            Checksums sourceSums;
            Checksums targetSums;
            if (inDatabase) {
                sourceSums = source.checksums().get();
                targetSums = target.checksums().get();
            } else {
                sourceSums = canonical(source, jobs, true);
                targetSums = canonical(target, jobs, false);
                say.accept("Comparing " + source.name() + " with " + target.name() + ": rows read from both and "
                        + "hashed by Tandem over type-normalised values; differing rows are compared again by key");
            }
            String migrationId = store.migrations().find(m.id()).isPresent() ? m.id() : null;
            CaughtUp caughtUp = migrationId == null ? null : streamOf(m, source);
            Optional<ChangeApplier> repairer = opts.repair() ? target.changeApplier() : Optional.empty();
            if (opts.repair() && repairer.isEmpty()) {
                throw TandemException.badInput("--repair needs a target that can apply rows; " + target.name()
                        + " cannot yet");
            }
            Map<String, Long> equal = caughtUp == null && opts.prevRunId() == null
                    ? wholeTables(jobs, source, target, sourceSums, targetSums) : Map.of();
            RunRecord run = createRun(m, migrationId, source, jobs, opts, equal.keySet());
            Map<String, Tally> tallies = new LinkedHashMap<>();
            jobs.keySet().forEach(t -> tallies.put(t, new Tally()));
            equal.forEach((table, rows) -> {
                store.runs().passTable(run.runId(), table, rows);
                tallies.get(table).processed = rows;
                tallies.get(table).matching = rows;
            });
            List<ChunkRecord> chunks = store.runs().chunks(run.runId(), ChunkStatus.NOT_STARTED);
            say.accept("Verify run " + run.runId() + ": " + jobs.size() + " tables" + (equal.isEmpty() ? ""
                    : ", " + equal.size() + " equal as a whole (read in physical order on both sides)")
                    + (chunks.isEmpty() ? "" : "; " + chunks.size() + " chunks to compare")
                    + (opts.repair() ? ", repairing differing rows from the source" : ""));
            store.runs().setStatus(run.runId(), RunStatus.NOT_STARTED, RunStatus.STARTED);
            int workers = Math.max(1, Math.min(m.data().parallelism(), chunks.size()));
            if (!chunks.isEmpty()) {
                say.accept("  " + workers + " worker" + (workers == 1 ? "" : "s") + ", each comparing a chunk on "
                        + "both sides at once");
            }
            Progress progress = new Progress(t0, chunks.size(), tallies);
            ConcurrentLinkedQueue<ChunkRecord> queue = new ConcurrentLinkedQueue<>(chunks);
            AtomicBoolean failed = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
                Thread th = new Thread(r, "tandem-verify");
                th.setDaemon(true);
                return th;
            });
            try {
                List<Future<Void>> running = new ArrayList<>();
                for (int i = 0; i < workers; i++) {
                    running.add(pool.submit(() -> {
                        try {
                            worker(run.runId(), queue, failed, jobs, source, target, sourceSums, targetSums, caughtUp,
                                    !inDatabase, repairer.orElse(null), tallies, progress);
                        } catch (SQLException | InterruptedException | RuntimeException e) {
                            failed.set(true);
                            throw e;
                        }
                        return null;
                    }));
                }
                for (Future<Void> f : running) {
                    await(f);
                }
            } finally {
                pool.shutdownNow();
            }
            store.runs().setStatus(run.runId(), RunStatus.STARTED, RunStatus.ENDED);
            List<TableReport> tables = new ArrayList<>();
            String whyInFlight = null;
            for (Map.Entry<String, Tally> e : tallies.entrySet()) {
                Tally x = e.getValue();
                tables.add(new TableReport(e.getKey(), x.processed, x.matching, x.mismatched, x.extraOnSource,
                        x.extraOnTarget, x.repaired, x.changed, x.inFlight, List.copyOf(x.samples)));
                whyInFlight = whyInFlight != null ? whyInFlight : x.whyInFlight;
            }
            return new Report(run.runId(), migrationId, tables, (System.nanoTime() - t0) / 1e9, caughtUp != null,
                    whyInFlight);
        } catch (SQLException e) {
            boolean onTarget = e instanceof RowRecheck.SideFailure f && f.role() == Role.TARGET;
            throw new TandemException(onTarget ? ErrorCode.TARGET : ErrorCode.SOURCE, "verify failed on the "
                    + (onTarget ? "target" : "source") + ": " + m.source().scrub(m.target().scrub(
                    String.valueOf(e.getMessage()))), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TandemException(ErrorCode.BAD_STATE, "verify was interrupted; continue with --prev-run", e);
        }
    }

    /**
     * The fast path for equal tables when no stream changes them: each table's count and checksum read whole on both
     * sides at once, in physical order ({@link Checksums#tableChecksum}: as fast as the database can scan). Returns
     * the equal tables with their row counts; they get one chunk each, PASS. Only unequal tables (and those the
     * database cannot scan that way) are planned into chunks, for the chunk workers to find the differing rows.
     */
    private Map<String, Long> wholeTables(Map<String, TableJob> jobs, Connector source, Connector target,
                                          Checksums sourceSums, Checksums targetSums)
            throws SQLException, InterruptedException {
        ExecutorService targetSide = Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "tandem-verify-target");
            th.setDaemon(true);
            return th;
        });
        Map<String, Long> equal = new LinkedHashMap<>();
        try (Connection s = connect(source, Role.SOURCE); Connection t = connect(target, Role.TARGET)) {
            for (TableJob job : jobs.values()) {
                long t0 = System.nanoTime();
                Future<Optional<Checksums.RangeChecksum>> there = targetSide.submit(() ->
                        tableChecksum(targetSums, t, job.target(), job.columns(), Role.TARGET));
                Optional<Checksums.RangeChecksum> sc = tableChecksum(sourceSums, s, job.source(), job.columns(),
                        Role.SOURCE);
                Optional<Checksums.RangeChecksum> tc = await(there);
                if (sc.isPresent() && sc.equals(tc)) {
                    equal.put(job.name(), sc.get().rows());
                }
                if (sc.isPresent()) {
                    say.accept(String.format(Locale.ROOT, "  %s: %s as a whole (%,d rows, %.1f s)%s", job.name(),
                            equal.containsKey(job.name()) ? "equal" : "not equal", sc.get().rows(),
                            (System.nanoTime() - t0) / 1e9, equal.containsKey(job.name()) ? ""
                                    : "; comparing it chunk by chunk"));
                }
            }
        } finally {
            targetSide.shutdownNow();
        }
        return equal;
    }

    /**
     * One worker: its own connection to each side, and a thread of its own for the target's half of each chunk;
     * takes chunks until none is left or another worker failed. Each chunk's counts are added to its table's
     * under a lock.
     */
    private void worker(long runId, ConcurrentLinkedQueue<ChunkRecord> queue, AtomicBoolean failed,
                        Map<String, TableJob> jobs, Connector source, Connector target, Checksums sourceSums,
                        Checksums targetSums, CaughtUp caughtUp, boolean byKey, ChangeApplier repairer,
                        Map<String, Tally> tallies, Progress progress) throws SQLException, InterruptedException {
        ExecutorService targetSide = Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "tandem-verify-target");
            th.setDaemon(true);
            return th;
        });
        try (Connection s = connect(source, Role.SOURCE); Connection t = connect(target, Role.TARGET)) {
            if (repairer != null) {
                t.setAutoCommit(false);
                repairer.prepare(t);
            }
            ChunkRecord chunk;
            while (!failed.get() && (chunk = queue.poll()) != null) {
                TableJob job = jobs.get(chunk.tableName());
                Tally tally = new Tally();
                // A verify chunk is not marked STARTED: NOT_STARTED and STARTED are both done again by --prev-run,
                // and one store write per chunk is cheaper.
                RowRecheck.Side ss = new RowRecheck.Side(s, sourceSums, job.source(), job.columns(), Role.SOURCE);
                RowRecheck.Side ts = new RowRecheck.Side(t, targetSums, job.target(), job.columns(), Role.TARGET);
                ChunkStatus status = verifyChunk(runId, chunk, job, ss, ts, targetSide, caughtUp, byKey, repairer,
                        tally);
                store.runs().markChunk(runId, chunk.tableName(), chunk.chunkNo(), ChunkStatus.NOT_STARTED, status,
                        tally.processed, 0, null);
                Tally total = tallies.get(chunk.tableName());
                synchronized (total) {
                    total.add(tally);
                }
                progress.chunkDone();
            }
        } finally {
            targetSide.shutdownNow();
        }
    }

    private static Optional<Checksums.RangeChecksum> tableChecksum(Checksums sums, Connection c, TableInfo table,
                                                                   List<String> columns, Role role)
            throws SQLException {
        try {
            return sums.tableChecksum(c, table, columns);
        } catch (SQLException e) {
            throw new RowRecheck.SideFailure(role, e);
        }
    }

    private static Connection connect(Connector c, Role role) throws SQLException {
        try {
            return c.connect();
        } catch (SQLException e) {
            throw new RowRecheck.SideFailure(role, e);
        }
    }

    /** A progress line every 5 s: chunks, rows, rows/s, ETA. */
    private final class Progress {
        private final long t0;
        private final int chunks;
        private final Map<String, Tally> tallies;
        private int done;
        private long lastSay = System.nanoTime();

        Progress(long t0, int chunks, Map<String, Tally> tallies) {
            this.t0 = t0;
            this.chunks = chunks;
            this.tallies = tallies;
        }

        synchronized void chunkDone() {
            done++;
            if (System.nanoTime() - lastSay < 5_000_000_000L) {
                return;
            }
            lastSay = System.nanoTime();
            double secs = (lastSay - t0) / 1e9;
            long rows = 0;
            for (Tally x : tallies.values()) {
                synchronized (x) {
                    rows += x.processed;
                }
            }
            say.accept(String.format(Locale.ROOT, "  %d/%d chunks, %,d rows compared (%,.0f rows/s), ETA %.0f s",
                    done, chunks, rows, rows / secs, secs / done * (chunks - done)));
        }
    }

    /**
     * The lag-aware mode: when the manifest's migration has a change stream that is not finished, differences are
     * rechecked after the target applied past the source position: a fence written into the source's change log,
     * which the streaming process records in the store once it committed everything before it. Null when there is
     * no stream to wait for.
     */
    private CaughtUp streamOf(Manifest m, Connector source) {
        MigrationRecord r = store.migrations().get(m.id());
        if (r.status().state().isTerminal() || store.positions().find(m.id(), StreamDirection.FORWARD).isEmpty()) {
            return null;
        }
        if (r.status().phase().isBefore(Phase.CATCH_UP)) {
            throw TandemException.badState("migration " + m.id() + " is still copying (phase " + r.status().phase()
                    .wire() + "): the target lacks rows by design until the backfill ends. Verify once it is in "
                    + "catch_up (tandem status " + m.id() + ")");
        }
        ChangeCapture capture = Streams.capture(m, source, null, List.of());
        say.accept("Migration " + m.id() + " streams changes: a difference counts only if it is still there after "
                + "the target applied past the source position of its comparison");
        if (capture instanceof TimestampColumnCapture) {
            return polledPast(m, source, capture);
        }
        return timeout -> {
            String fence = ChangeStreamRunner.FOREIGN_FENCE + UUID.randomUUID();
            try (Connection c = source.connect()) {
                c.setAutoCommit(true);
                capture.fence(c, fence);
            } catch (SQLException e) {
                throw new TandemException(ErrorCode.SOURCE, "cannot write a fence into the source's change log: "
                        + m.source().scrub(e.getMessage()), e);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (store.fences().take(m.id(), fence)) {
                    return true;
                }
                Thread.sleep(100);
            }
            return false;
        };
    }

    /**
     * Timestamp polling has no log to write a fence into: the wait ends when the streaming process's lag samples
     * show a poll cycle that started after now (its watermark; changes stamped within the overlap window before it
     * are read again by that cycle).
     */
    private CaughtUp polledPast(Manifest m, Connector source, ChangeCapture capture) {
        return timeout -> {
            String now;
            try (Connection c = source.connect()) {
                now = capture.currentPosition(c);
            } catch (SQLException e) {
                throw new TandemException(ErrorCode.SOURCE, "cannot read the source's clock: "
                        + m.source().scrub(e.getMessage()), e);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                List<LagSample> last = store.lag().recent(m.id(), StreamDirection.FORWARD, 1);
                if (!last.isEmpty() && last.get(0).appliedPosition() != null
                        && capture.distance(last.get(0).appliedPosition(), now) == 0) {
                    return true;
                }
                Thread.sleep(200);
            }
            return false;
        };
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
        long inFlight;
        String whyInFlight;
        final List<Sample> samples = new ArrayList<>();

        void add(Tally x) {
            processed += x.processed;
            matching += x.matching;
            mismatched += x.mismatched;
            extraOnSource += x.extraOnSource;
            extraOnTarget += x.extraOnTarget;
            repaired += x.repaired;
            changed += x.changed;
            inFlight += x.inFlight;
            whyInFlight = whyInFlight != null ? whyInFlight : x.whyInFlight;
            for (Sample sm : x.samples) {
                if (samples.size() < SAMPLES) {
                    samples.add(sm);
                }
            }
        }
    }

    private ChunkStatus verifyChunk(long runId, ChunkRecord chunk, TableJob job, RowRecheck.Side s,
                                    RowRecheck.Side t, ExecutorService targetSide, CaughtUp caughtUp, boolean byKey,
                                    ChangeApplier repairer, Tally tally) throws SQLException, InterruptedException {
        KeyRange sourceRange = job.sourceRange(chunk);
        KeyRange targetRange = job.targetRange(chunk);
        // both databases scan at once
        Future<Checksums.RangeChecksum> there = targetSide.submit(() -> t.checksum(targetRange));
        Checksums.RangeChecksum sc = s.checksum(sourceRange);
        Checksums.RangeChecksum tc = await(there);
        tally.processed += sc.rows();
        if (sc.equals(tc)) {
            tally.matching += sc.rows();
            return ChunkStatus.PASS;
        }
        // Row by row: the source's hashes of this chunk in memory, the target's streamed against them.
        Map<List<String>, Long> sourceRows = new HashMap<>();
        s.rowHashes(sourceRange, sourceRows::put);
        List<RowRecheck.Suspect> diffs = new ArrayList<>();
        long[] matching = {0};
        t.rowHashes(targetRange, (key, hash) -> {
            Long sh = sourceRows.remove(key);
            if (sh == null || sh != hash) {
                diffs.add(new RowRecheck.Suspect(key, sh, hash));
            } else {
                matching[0]++;
            }
        });
        sourceRows.forEach((key, hash) -> diffs.add(new RowRecheck.Suspect(key, hash, null)));
        tally.matching += matching[0];
        List<RowRecheck.Suspect> confirmed = diffs;
        if (caughtUp != null && !diffs.isEmpty()) {
            RowRecheck.Outcome o = RowRecheck.recheck(diffs, s, t, caughtUp, RECHECK_TIMEOUT);
            confirmed = o.confirmed();
            tally.matching += o.resolved();
            tally.inFlight += o.inFlight();
            if (o.whyInFlight() != null) {
                tally.whyInFlight = o.whyInFlight();
            }
        } else if (byKey && !diffs.isEmpty()) {
            // Two engines may order keys differently (collations), so a row can fall into one chunk on the source
            // and another on the target: only a comparison by key says whether it differs. A row belongs to the
            // chunk its source row falls in (counted, and reported, there only); one only the target has, to the
            // chunk its target row falls in.
            Set<List<String>> onSourceHere = new HashSet<>();
            diffs.stream().filter(d -> d.sourceHash() != null).forEach(d -> onSourceHere.add(d.key()));
            List<RowRecheck.Suspect> byKeyNow = RowRecheck.compare(diffs.stream().map(RowRecheck.Suspect::key)
                    .toList(), s, t);
            confirmed = byKeyNow.stream().filter(d -> d.sourceHash() == null || onSourceHere.contains(d.key()))
                    .toList();
            Set<List<String>> differing = new HashSet<>();
            byKeyNow.forEach(d -> differing.add(d.key()));
            tally.matching += onSourceHere.stream().filter(k -> !differing.contains(k)).count();
        }
        int repaired = 0;
        for (RowRecheck.Suspect d : confirmed) {
            switch (d.kind()) {
                case "mismatch" -> tally.mismatched++;
                case "missing_on_target" -> tally.extraOnSource++;
                default -> tally.extraOnTarget++;
            }
            Map<String, List<String>> differing = d.kind().equals("mismatch")
                    ? DriftRows.differingColumns(s, t, d.key()) : Map.of();
            String keyJson = KeyJson.write(d.key());
            store.drift().record(new DriftLog.DriftRow(runId, job.name(), chunk.chunkNo(), keyJson, d.kind(),
                    d.kind().equals("mismatch") ? KeyJson.write(new ArrayList<>(differing.keySet())) : null, null,
                    null));
            if (tally.samples.size() < SAMPLES) {
                tally.samples.add(new Sample(d.key(), d.kind(), differing));
            }
            if (repairer != null) {
                if (!DriftRows.repair(s, t, repairer, job.name(), d)) {
                    tally.changed++;
                    continue;
                }
                store.drift().repaired(runId, job.name(), keyJson);
                tally.repaired++;
                repaired++;
            }
        }
        if (confirmed.isEmpty()) {
            // the sums differed only through rows in flight (or, without a stream, not at all row by row)
            return ChunkStatus.PASS;
        }
        return repaired == confirmed.size() ? ChunkStatus.DIFF_CORRECTED : ChunkStatus.DIFF;
    }

    /**
     * Tandem's own checksums over one side's rows, normalised per column pair (both sides must encode a pair's
     * values alike, so the normalisations come from both tables' declared types).
     */
    private static Checksums canonical(Connector c, Map<String, TableJob> jobs, boolean sourceSide) {
        RowReader reader = c.rowReader().orElseThrow(() -> TandemException.badInput("verify cannot read rows from "
                + "the " + (sourceSide ? "source" : "target") + " (" + c.name() + ") to compare them across engines "
                + "yet"));
        Map<TableRef, Map<String, CanonicalChecksums.Norm>> norms = new HashMap<>();
        for (TableJob job : jobs.values()) {
            norms.put(sourceSide ? job.source().ref() : job.target().ref(),
                    CanonicalChecksums.norms(job.source(), job.target(), job.columns()));
        }
        return new CanonicalChecksums(reader, norms);
    }

    private static <T> T await(Future<T> f) throws SQLException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException se) {
                throw se;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** A value as reports show it: long ones abbreviated, those of secret-looking columns masked. */
    static String shown(String column, String value) {
        return DriftRows.shown(column, value);
    }

    /**
     * A table's chunks for comparing. Unlike a copy's, the first and last ranges are open: rows only the target has,
     * below the source's least key or above its greatest, are differences too. An empty table is one unbounded chunk.
     */
    static List<ChunkRecord> chunks(ChunkPlanner planner, Connection source, TableJob job) throws SQLException {
        List<ChunkPlanner.PlannedChunk> planned = planner.plan(source, job.source(),
                KeyRange.all(job.source().keyColumns()));
        List<ChunkRecord> out = new ArrayList<>();
        for (int no = 0; no < planned.size(); no++) {
            KeyRange r = planned.get(no).range();
            out.add(ChunkRecord.planned(job.name(), no, no == 0 ? null : KeyJson.write(r.lower()),
                    no != 0 && r.lowerInclusive(), no == planned.size() - 1 ? null : KeyJson.write(r.upper()),
                    planned.get(no).estimatedRows(), false));
        }
        if (planned.isEmpty()) {
            out.add(ChunkRecord.planned(job.name(), 0, null, false, null, 0, false));
        }
        return out;
    }

    /** @param wholeTables tables found equal as a whole: one unbounded chunk each, not planned */
    private RunRecord createRun(Manifest m, String migrationId, Connector source, Map<String, TableJob> jobs,
                                Options opts, Set<String> wholeTables) throws SQLException {
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
                if (wholeTables.contains(job.name())) {
                    chunks.add(ChunkRecord.planned(job.name(), 0, null, false, null, 0, false));
                } else {
                    chunks.addAll(chunks(planner, c, job));
                }
            }
        }
        return store.runs().create(migrationId, RunRecord.Kind.VERIFY, null, null, null,
                migrationId == null ? "verify of " + m.id() + " (no migration of that id in this store)" : "verify",
                0, chunks);
    }
}
