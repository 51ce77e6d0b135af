package dev.tandem.core.verify;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
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

    public VerifyReport verify(Manifest m, Options opts) {
        long t0 = System.nanoTime();
        Tables sides = Tables.of(registry, m);
        try {
            Map<String, TableJob> jobs = sides.compareJobs();
            PairChecksums sums = sums(sides, jobs);
            String migrationId = store.migrations().find(m.id()).isPresent() ? m.id() : null;
            CaughtUp caughtUp = StreamFence.of(store, m, sides.source()).orElse(null);
            if (caughtUp != null && caughtUp.notRunning().isPresent()) {
                say.accept("Note: " + caughtUp.notRunning().get() + ".");
            } else if (caughtUp != null) {
                say.accept("Migration " + m.id() + " streams changes: a difference counts only if it is still there "
                        + "after the target applied past the source position of its comparison");
            }
            ChangeApplier repairer = repairer(sides.target(), opts);
            Map<String, VerifyReport.Tally> tallies = new LinkedHashMap<>();
            jobs.keySet().forEach(t -> tallies.put(t, new VerifyReport.Tally()));
            Map<String, List<SchemaComparison.Difference>> schemas = schemas(jobs, sides, tallies);
            Map<String, Long> equal = caughtUp == null && opts.prevRunId() == null
                    ? wholeTables(jobs, sides, sums) : Map.of();
            RunRecord run = VerifyPlan.create(store, sides, migrationId, jobs, opts.prevRunId(), equal.keySet());
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
            DriftRecorder drift = new DriftRecorder(store, run.runId());
            schemas.forEach((table, diffs) -> diffs.forEach(d -> drift.recordSchema(table, d)));
            ChunkWork work = new ChunkWork(jobs, sides, sums, caughtUp, repairer, tallies, drift);
            compareChunks(work, run.runId(), chunks, m.data().parallelism(), t0);
            store.runs().setStatus(run.runId(), RunStatus.STARTED, RunStatus.ENDED);
            return report(run.runId(), migrationId, tallies, t0, caughtUp != null);
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
     * Each table's columns compared first (rows are compared over the columns both sides have): the differences by
     * table, also put in the tallies.
     */
    private Map<String, List<SchemaComparison.Difference>> schemas(Map<String, TableJob> jobs, Tables sides,
                                                                   Map<String, VerifyReport.Tally> tallies) {
        boolean sameEngine = sides.source().name().equals(sides.target().name());
        Map<String, List<SchemaComparison.Difference>> out = new LinkedHashMap<>();
        for (Map.Entry<String, TableJob> e : jobs.entrySet()) {
            List<SchemaComparison.Difference> d = SchemaComparison.differences(e.getValue(), sameEngine);
            if (!d.isEmpty()) {
                out.put(e.getKey(), d);
                tallies.get(e.getKey()).schema = d.stream().map(SchemaComparison.Difference::describe).toList();
            }
        }
        if (!out.isEmpty()) {
            say.accept("The columns differ in " + out.size() + " table" + (out.size() == 1 ? "" : "s") + " (reported "
                    + "below); rows are compared over the columns both sides have");
        }
        return out;
    }

    /** Both sides' checksums ({@link PairChecksums}); says how they compare when not in the databases. */
    private PairChecksums sums(Tables sides, Map<String, TableJob> jobs) {
        Connector source = sides.source();
        Connector target = sides.target();
        Optional<String> why = PairChecksums.whyNot(source, target);
        if (why.isPresent()) {
            throw TandemException.badInput("verify cannot compare these sides: " + why.get());
        }
        PairChecksums sums = PairChecksums.of(source, target, jobs.values());
        if (!sums.inDatabase()) {
            say.accept("Comparing " + source.name() + " with " + target.name() + ": rows read from both and hashed by "
                    + "Tandem over type-normalised values; differing rows are compared again by key");
        }
        return sums;
    }

    private static ChangeApplier repairer(Connector target, Options opts) {
        if (!opts.repair()) {
            return null;
        }
        return target.changeApplier().orElseThrow(() -> TandemException.badInput("--repair needs a target that can "
                + "apply rows; " + target.name() + " cannot yet"));
    }

    private static VerifyReport report(long runId, String migrationId, Map<String, VerifyReport.Tally> tallies,
                                       long t0, boolean lagAware) {
        List<VerifyReport.TableReport> tables = new ArrayList<>();
        String whyInFlight = null;
        for (Map.Entry<String, VerifyReport.Tally> e : tallies.entrySet()) {
            tables.add(e.getValue().report(e.getKey()));
            whyInFlight = whyInFlight != null ? whyInFlight : e.getValue().whyInFlight;
        }
        return new VerifyReport(runId, migrationId, tables, (System.nanoTime() - t0) / 1e9, lagAware, whyInFlight);
    }

    /**
     * What every chunk worker shares: the jobs, both sides with their checksums, the stream to wait for (null: none),
     * the repairer (null: no repair), the per-table counts and where drift goes.
     */
    private record ChunkWork(Map<String, TableJob> jobs, Tables sides, PairChecksums sums, CaughtUp caughtUp,
                             ChangeApplier repairer, Map<String, VerifyReport.Tally> tallies, DriftRecorder drift) {
    }

    /** Compares the chunks with up to {@code parallelism} workers; returns when all are done or one failed. */
    private void compareChunks(ChunkWork work, long runId, List<ChunkRecord> chunks, int parallelism, long t0)
            throws SQLException, InterruptedException {
        int workers = Math.max(1, Math.min(parallelism, chunks.size()));
        if (!chunks.isEmpty()) {
            say.accept("  " + workers + " worker" + (workers == 1 ? "" : "s") + ", each comparing a chunk on both sides "
                    + "at once");
        }
        VerifyProgress progress = new VerifyProgress(t0, chunks.size(), work.tallies(), say);
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
                        worker(work, runId, queue, failed, progress);
                    } catch (SQLException | InterruptedException | RuntimeException e) {
                        failed.set(true);
                        throw e;
                    }
                    return null;
                }));
            }
            for (Future<Void> f : running) {
                ChunkComparison.await(f);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The fast path for equal tables when no stream changes them: each table's count and checksum read whole on both
     * sides at once, in physical order ({@link Checksums#tableChecksum}: as fast as the database can scan). Returns
     * the equal tables with their row counts; they get one chunk each, PASS. Only unequal tables (and those the
     * database cannot scan that way) are planned into chunks, for the chunk workers to find the differing rows.
     */
    private Map<String, Long> wholeTables(Map<String, TableJob> jobs, Tables sides, PairChecksums sums)
            throws SQLException, InterruptedException {
        ExecutorService targetSide = targetThread();
        Map<String, Long> equal = new LinkedHashMap<>();
        try (Connection s = connect(sides.source(), Role.SOURCE); Connection t = connect(sides.target(), Role.TARGET)) {
            for (TableJob job : jobs.values()) {
                long t0 = System.nanoTime();
                Future<Optional<Checksums.RangeChecksum>> there = targetSide.submit(() ->
                        tableChecksum(sums.target(), t, job.target(), job.columns(), Role.TARGET));
                Optional<Checksums.RangeChecksum> sc = tableChecksum(sums.source(), s, job.source(), job.columns(),
                        Role.SOURCE);
                Optional<Checksums.RangeChecksum> tc = ChunkComparison.await(there);
                if (sc.isPresent() && sc.equals(tc)) {
                    equal.put(job.name(), sc.get().rows());
                }
                if (sc.isPresent()) {
                    say.accept(String.format(Locale.ROOT, "  %s: rows %s as a whole (%,d rows, %.1f s)%s", job.name(),
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
    private void worker(ChunkWork work, long runId, ConcurrentLinkedQueue<ChunkRecord> queue, AtomicBoolean failed,
                        VerifyProgress progress) throws SQLException, InterruptedException {
        ExecutorService targetSide = targetThread();
        PairChecksums sums = work.sums();
        try (Connection s = connect(work.sides().source(), Role.SOURCE);
             Connection t = connect(work.sides().target(), Role.TARGET)) {
            if (work.repairer() != null) {
                t.setAutoCommit(false);
                work.repairer().prepare(t);
            }
            ChunkRecord chunk;
            while (!failed.get() && (chunk = queue.poll()) != null) {
                TableJob job = work.jobs().get(chunk.tableName());
                VerifyReport.Tally tally = new VerifyReport.Tally();
                // A verify chunk is not marked STARTED: NOT_STARTED and STARTED are both done again by --prev-run,
                // and one store write per chunk is cheaper.
                RowRecheck.Side ss = new RowRecheck.Side(s, sums.source(), job.source(), job.columns(), Role.SOURCE);
                RowRecheck.Side ts = new RowRecheck.Side(t, sums.target(), job.target(), job.columns(), Role.TARGET);
                ChunkStatus status = verifyChunk(work, chunk, ss, ts, targetSide, tally);
                store.runs().markChunk(chunk, ChunkStatus.NOT_STARTED, status, tally.processed, 0, null);
                VerifyReport.Tally total = work.tallies().get(chunk.tableName());
                synchronized (total) {
                    total.add(tally);
                }
                progress.chunkDone();
            }
        } finally {
            targetSide.shutdownNow();
        }
    }

    private static ExecutorService targetThread() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread th = new Thread(r, "tandem-verify-target");
            th.setDaemon(true);
            return th;
        });
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

    /** Compares one chunk; rechecks, records and repairs what differs; returns the chunk's status. */
    private ChunkStatus verifyChunk(ChunkWork work, ChunkRecord chunk, RowRecheck.Side s, RowRecheck.Side t,
                                    ExecutorService targetSide, VerifyReport.Tally tally) throws SQLException, InterruptedException {
        TableJob job = work.jobs().get(chunk.tableName());
        ChunkComparison.Result c = ChunkComparison.compare(s, t, job.sourceRange(chunk), job.targetRange(chunk),
                targetSide);
        tally.processed += c.source().rows();
        tally.matching += c.matching();
        if (c.equal()) {
            return ChunkStatus.PASS;
        }
        List<RowRecheck.Suspect> confirmed = c.suspects();
        if (work.caughtUp() != null) {
            RowRecheck.Outcome o = RowRecheck.recheck(c.suspects(), s, t, work.caughtUp(), RECHECK_TIMEOUT);
            confirmed = o.confirmed();
            tally.matching += o.resolved();
            tally.inFlight += o.inFlight();
            if (o.whyInFlight() != null) {
                tally.whyInFlight = o.whyInFlight();
            }
        } else if (!work.sums().inDatabase()) {
            confirmed = byKey(c.suspects(), s, t, tally);
        }
        int repaired = 0;
        for (RowRecheck.Suspect d : confirmed) {
            switch (d.kind()) {
                case MISMATCH -> tally.mismatched++;
                case MISSING_ON_TARGET -> tally.extraOnSource++;
                case EXTRA_ON_TARGET -> tally.extraOnTarget++;
            }
            DriftRecorder.Recorded r = work.drift().record(job.name(), chunk.chunkNo(), d, s, t);
            if (tally.samples.size() < VerifyReport.SAMPLES) {
                tally.samples.add(new VerifyReport.Sample(d.key(), d.kind(), r.differing()));
            }
            if (work.repairer() != null) {
                if (!work.drift().repaired(r, d, s, t, work.repairer())) {
                    tally.changed++;
                    continue;
                }
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
     * Two engines may order keys differently (collations), so a row can fall into one chunk on the source and another
     * on the target: only a comparison by key says whether it differs. A row belongs to the chunk its source row
     * falls in (counted, and reported, there only); one only the target has, to the chunk its target row falls in.
     */
    private static List<RowRecheck.Suspect> byKey(List<RowRecheck.Suspect> diffs, RowRecheck.Side s,
                                                  RowRecheck.Side t, VerifyReport.Tally tally) throws SQLException {
        Set<List<String>> onSourceHere = new HashSet<>();
        diffs.stream().filter(d -> d.sourceHash() != null).forEach(d -> onSourceHere.add(d.key()));
        List<RowRecheck.Suspect> byKeyNow = RowRecheck.compare(diffs.stream().map(RowRecheck.Suspect::key)
                .toList(), s, t);
        Set<List<String>> differing = new HashSet<>();
        byKeyNow.forEach(d -> differing.add(d.key()));
        tally.matching += onSourceHere.stream().filter(k -> !differing.contains(k)).count();
        return byKeyNow.stream().filter(d -> d.sourceHash() == null || onSourceHere.contains(d.key())).toList();
    }
}
