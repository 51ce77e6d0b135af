package dev.tandem.core.cdc;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.StreamDirection;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Metrics;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One migration's forward change stream while it runs: the source's capture feeding a {@link StreamApplier}, the
 * stream's offsets and confirmed position in the control store (tandem_positions), and a sampler that records the
 * lag every second (tandem_lag) for {@code tandem lag}.
 * <p>Lag, sampled once a second: the sampler writes a heartbeat marker into the source's log each time
 * ({@link ChangeCapture#fence}) and notes when; {@code seconds} is the age of the oldest heartbeat the stream has not
 * applied yet — 0 once it applied every heartbeat older than the one just written, so an idle source reads ~0 s
 * however much unrelated log it writes, and a stalled apply reads the time it has been stalled. {@code bytes} is the
 * change log between the last handled change and the source's newest position (unrelated log traffic included).
 * {@code records} is an estimate of the changes in the source's log not applied yet: the changes received and not
 * applied (held back for chunks copying included), or, while heartbeats wait, the rows the source's own statistics
 * count as changed in the migration's tables since the newest heartbeat applied ({@link ChangeCapture#changesSoFar}),
 * whichever is more. A capture whose positions are not log bytes (timestamp polling)
 * keeps the sampler's history of source positions instead: how long ago the source stood where the target is.
 */
public final class ChangeStreamRunner implements AutoCloseable {
    /**
     * Prefix of the fences other processes write into this stream's log ({@code tandem verify}); each is recorded in
     * the store (tandem_fences) once applied.
     */
    public static final String FOREIGN_FENCE = "await-";
    /** Prefix of the lag sampler's heartbeat markers. */
    static final String BEAT = "beat-";

    /**
     * A heartbeat the sampler wrote: its number, when, its position in the log, and the source's change counter read
     * just before it ({@link ChangeCapture#changesSoFar}; -1 when the source keeps none).
     */
    private record Beat(long number, Instant at, String position, long changes) {
    }
    private static final Logger log = LoggerFactory.getLogger(ChangeStreamRunner.class);

    /**
     * What the stream moves and how: which of the migration's streams, its tables (on the side it reads), the apply
     * side's view of each, the heartbeat, changes per target transaction, whether source transactions are kept, and
     * how long a stream that lost the side it reads reconnects before it fails.
     */
    public record Spec(String migrationId, StreamDirection direction, List<TableInfo> tables,
                       Map<String, ChangeApplier.ApplyTable> apply, Duration heartbeat, int maxBatch,
                       boolean keepTransactions, Duration reconnectTimeout) {
    }

    private final ControlStore store;
    private final String migrationId;
    private final StreamDirection direction;
    private final String streamName;
    private final Connector source;
    private final ChangeCapture capture;
    private final StreamApplier applier;
    private final Spec spec;
    private volatile ChangeCapture.ChangeStream stream;
    private Thread sampler;
    private Thread watcher;
    /** Decides when a failed capture is started again and when the stream failed for good. */
    private final StreamWatch watch;
    private final Deque<Instant> sampleTimes = new ArrayDeque<>();
    private final Deque<String> samplePositions = new ArrayDeque<>();
    /** Prefix of this runner's heartbeat markers: unique per runner, so beats of an earlier process are not read. */
    private final String beatPrefix = BEAT + UUID.randomUUID().toString().substring(0, 8) + "-";
    /** Heartbeats written and not yet applied, oldest first (sampler thread only). */
    private final Deque<Beat> beats = new ArrayDeque<>();
    private long beatsWritten;
    /** Whether lag is measured by heartbeats (log-based captures whose source lets Tandem write markers). */
    private volatile boolean beating;
    /** The number of the newest heartbeat the stream applied (the stream's thread writes it). */
    private volatile long beatApplied = -1;
    /** The source's change counter as of the newest heartbeat applied (sampler thread only), or -1. */
    private long changesApplied = -1;
    /** The source's change counter at the newest sample, or -1. */
    private long changesNow = -1;
    private volatile LagSample last;
    private volatile boolean stopped;
    /** The forward stream's schema checks ({@code cdc.on_schema_change}); null for the reverse stream. */
    private SchemaWatch schemaWatch;
    private Duration schemaCheckInterval;
    private Thread schemaChecker;

    /**
     * @param source the side the stream reads (the target, for the reverse stream)
     * @param target the side it applies to
     */
    public ChangeStreamRunner(ControlStore store, Spec spec, Connector source, ChangeCapture capture,
                              Connector target, Consumer<String> warn) {
        this.store = store;
        this.spec = spec;
        this.migrationId = spec.migrationId();
        this.direction = spec.direction();
        this.streamName = Streams.name(migrationId, direction);
        this.source = source;
        this.capture = capture;
        this.beating = capture.distanceInBytes();
        this.watch = new StreamWatch(spec, streamName, source, capture, warn, new StreamWatch.Watched() {
            @Override
            public ChangeCapture.ChangeStream current() {
                return stream;
            }

            @Override
            public void restart(ChangeCapture.ChangeStream failed) {
                synchronized (ChangeStreamRunner.this) {
                    if (!stopped) {
                        failed.close();
                        stream = open();
                    }
                }
            }

            @Override
            public boolean stopped() {
                return stopped;
            }
        });
        ChangeApplier a = target.changeApplier().orElseThrow(() -> TandemException.badInput("the " + target.name()
                + " connector cannot apply streamed changes yet; use cdc.method: none"));
        if (spec.keepTransactions() && !capture.knowsTransactions()) {
            throw TandemException.badInput("cdc.apply: source_transactions needs a change log that records the "
                    + "source's transactions; " + capture.positionKind() + " capture has none; use cdc.apply: "
                    + "group_commit");
        }
        this.applier = new StreamApplier(target, a, spec.apply(), spec.keepTransactions() ? streamName : null,
                capture::distance, warn);
        this.applier.onFence(marker -> {
            if (marker.startsWith(FOREIGN_FENCE)) {
                store.fences().applied(migrationId, marker);
            } else if (marker.startsWith(beatPrefix)) {
                try {
                    beatApplied = Math.max(beatApplied, Long.parseLong(marker.substring(beatPrefix.length())));
                } catch (NumberFormatException ignored) {
                    // not one of this runner's
                }
            }
        });
    }

    private volatile FunctionCounter appliedMeter;

    /** The forward stream's runner, built (not started). */
    public static ChangeStreamRunner forward(ControlStore store, Tables t, Consumer<String> say) throws SQLException {
        Manifest m = t.manifest();
        List<TableJob> jobs = t.copyJobs();
        ChangeStreamRunner r = new ChangeStreamRunner(store, new Spec(m.id(), StreamDirection.FORWARD,
                t.sourceTables(), Streams.applyTables(m, jobs), m.cdc().heartbeatInterval(), Streams.APPLY_BATCH,
                m.cdc().apply() == Cdc.Apply.SOURCE_TRANSACTIONS, m.cdc().reconnectTimeout()), t.source(),
                Streams.capture(m, t.source(), t.target(), jobs),
                t.target(), say);
        r.schemaWatch = new SchemaWatch(store, m, t.source(), t.target(), jobs, say);
        r.schemaCheckInterval = m.cdc().schemaCheckInterval();
        return r;
    }

    /** The reverse stream's runner (target → source, the jobs turned around), built (not started). */
    public static ChangeStreamRunner reverse(ControlStore store, Tables t, Consumer<String> say) throws SQLException {
        Manifest m = t.manifest();
        List<TableJob> back = t.copyJobs().stream().map(j -> new TableJob(j.target(), j.source(), j.columns(),
                j.format())).toList();
        return new ChangeStreamRunner(store, new Spec(m.id(), StreamDirection.REVERSE,
                back.stream().map(TableJob::source).toList(), Streams.applyTables(m, back), m.cdc().heartbeatInterval(),
                Streams.APPLY_BATCH, false, m.cdc().reconnectTimeout()), t.target(), Streams.reverseCapture(t.target()),
                t.source(), say);
    }

    public StreamApplier applier() {
        return applier;
    }

    /**
     * Starts streaming from the stored offsets (or P0), the lag sampler and the watcher that reconnects a stream
     * which lost its source. Refuses (BAD_STATE) when the source was told the stream is further than the store knows
     * (see {@link #refuseStoreBehindSource}), and (a source or target problem) when the stream's slot is gone.
     */
    public void start() {
        refuseStoreBehindSource();
        if (!schemaAgrees()) {
            return; // stopped before the first change: failure() says why
        }
        stream = open();
        sampler = new Thread(this::sampleLoop, "tandem-lag-" + migrationId);
        sampler.setDaemon(true);
        sampler.start();
        watcher = new Thread(watch, "tandem-stream-watch-" + migrationId);
        watcher.setDaemon(true);
        watcher.start();
        if (schemaWatch != null) {
            schemaChecker = new Thread(this::schemaLoop, "tandem-schema-watch-" + migrationId);
            schemaChecker.setDaemon(true);
            schemaChecker.start();
        }
        // changes committed on the target by this process (Prometheus: tandem_cdc_changes_applied_total)
        appliedMeter = FunctionCounter.builder("tandem.cdc.changes.applied", applier, a -> a.applied())
                .description("changes the stream committed on the target").tag("migration", migrationId)
                .register(Metrics.globalRegistry);
    }

    /**
     * Before the stream starts: the tables' shapes on both sides compared (and the first start's recorded); the
     * stream then holds every shape it announces against the target. False when a table differs: the stream is
     * stopped for it before it started.
     */
    private boolean schemaAgrees() {
        if (schemaWatch == null) {
            return true;
        }
        applier.schemaWatch(schemaWatch);
        try {
            schemaWatch.start().forEach(applier::refresh);
            return true;
        } catch (SchemaStop s) {
            applier.halt(s);
            watch.schemaStopped(s);
            return false;
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot compare the tables' columns on the source and the "
                    + "target before streaming: " + source.endpoint().scrub(String.valueOf(e.getMessage())), e);
        }
    }

    /**
     * Every {@code cdc.schema_check_interval}: both catalogs compared, for DDL no streamed change showed yet. Under
     * {@code on_schema_change: apply} the comparison runs with the apply held, since it may alter the target and the
     * apply must not write a batch of the old shape after that; otherwise it only reads and runs alongside.
     */
    private void schemaLoop() {
        boolean alters = schemaWatch.policy() == Cdc.OnSchemaChange.APPLY;
        while (!stopped && !Thread.currentThread().isInterrupted() && watch.failed() == null) {
            try {
                Thread.sleep(schemaCheckInterval.toMillis());
                if (stopped) {
                    break;
                }
                if (alters) {
                    applier.exclusive(() -> {
                        schemaWatch.catalogs().forEach(applier::refresh);
                        return null;
                    });
                } else {
                    schemaWatch.catalogs();
                }
            } catch (InterruptedException e) {
                break;
            } catch (SchemaStop s) {
                applier.halt(s);
                watch.schemaStopped(s);
                log.warn("the {} stream of {} stops: {}", direction.wire(), migrationId, s.getMessage());
                break;
            } catch (Exception e) {
                log.warn("cannot compare the catalogs of {} (tried again in {} s): {}", migrationId,
                        schemaCheckInterval.toSeconds(), source.endpoint().scrub(String.valueOf(e.getMessage())));
            }
        }
    }

    /**
     * A copy worker read a chunk of {@code table} and is about to commit it: checks that the table's columns on the
     * source are still the ones the copy reads ({@link SchemaWatch#copying}). If not, the stream stops too (the
     * migration pauses for the schema change) and the {@link SchemaStop} is thrown, failing the chunk uncommitted.
     */
    public void copying(String table, Connection source) throws SQLException {
        if (schemaWatch == null) {
            return;
        }
        try {
            schemaWatch.copying(table, source);
        } catch (SchemaStop s) {
            applier.halt(s);
            watch.schemaStopped(s);
            throw s;
        }
    }

    /** Starts the capture from the stored offsets (or P0); the sink records what the apply side threw. */
    private ChangeCapture.ChangeStream open() {
        ChangeCapture.OffsetStore offsets = new ChangeCapture.OffsetStore() {
            @Override
            public Optional<String> load() {
                return store.positions().find(migrationId, direction).map(p -> p.offsets());
            }

            @Override
            public Optional<String> confirmed() {
                return store.positions().find(migrationId, direction).map(p -> p.confirmed());
            }

            @Override
            public void save(String text, String confirmed) {
                String at = confirmed != null ? confirmed
                        : store.positions().find(migrationId, direction).orElseThrow().confirmed();
                store.positions().confirm(migrationId, direction, at, text);
            }
        };
        ChangeCapture.ChangeSink sink = batch -> {
            boolean taken;
            try {
                taken = applier.accept(batch);
            } catch (Exception e) {
                watch.applyFailed(e);
                throw e;
            }
            watch.delivered();
            return taken;
        };
        return capture.start(new ChangeCapture.StreamSpec(streamName, spec.tables(), spec.heartbeat(),
                spec.maxBatch(), offsets, sink, spec.keepTransactions()));
    }

    /**
     * DESIGN.md point 4 across a crash: the store's confirmed position must be at or past the source's (the slot's
     * confirmed_flush_lsn), since the stream confirms to the source only what the store holds durably. A store behind
     * its slot lost writes (restored from an older copy, or its last writes lost with the machine): the changes
     * between were applied on the target but the store cannot prove which, and the source may have discarded them.
     * Debezium would fail later with "no longer available"; this names both positions and the way out instead.
     */
    private void refuseStoreBehindSource() {
        String stored = store.positions().find(migrationId, direction).map(p -> p.confirmed()).orElse(null);
        Optional<String> atSource;
        Optional<String> gone;
        try (Connection c = source.connect()) {
            atSource = capture.confirmedAtSource(c, streamName);
            gone = stored == null ? Optional.empty() : capture.streamGone(c, streamName);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot read where the " + direction.wire() + " stream "
                    + streamName + " stands on its source: " + source.endpoint().scrub(e.getMessage()), e);
        }
        if (gone.isPresent()) {
            // started anyway, the capture would make a new slot and silently skip every change since the old one
            throw new TandemException(direction == StreamDirection.FORWARD ? ErrorCode.SOURCE : ErrorCode.TARGET,
                    "cannot resume the " + direction.wire() + " stream of " + migrationId + ": " + gone.get()
                    + ". The changes after its confirmed position " + stored + " are no longer kept for it. Way out: "
                    + (direction == StreamDirection.REVERSE ? "a rollback can no longer be shown to lose nothing; "
                    + "stay on the target with tandem cleanup " + migrationId : "abort the migration (tandem abort "
                    + migrationId + ") and migrate again (the copy starts over)"));
        }
        if (stored == null || atSource.isEmpty() || capture.distance(stored, atSource.get()) <= 0) {
            return;
        }
        String way = direction == StreamDirection.REVERSE
                ? "a rollback can no longer be shown to lose nothing; stay on the target with tandem cleanup "
                        + migrationId
                : "abort the migration (tandem abort " + migrationId + "), empty or drop its tables on the "
                        + "target, and migrate again";
        throw TandemException.badState("cannot resume the " + direction.wire() + " stream of " + migrationId
                + ": the control store " + store.display() + " holds position " + stored + ", behind " + atSource.get()
                + ", the position " + streamName + " was confirmed to on its source (" + capture.distance(stored,
                atSource.get()) + " bytes). The store lost writes the source had already been told of (an older "
                + "copy of the store, or one shared by two processes), so the changes between cannot be accounted "
                + "for. Expected the store at or past the source's position. Way out: " + way);
    }

    /** Why the stream stopped on its own, if it did (a stream reconnecting to its source has not stopped). */
    public Optional<StreamFailure> failure() {
        return Optional.ofNullable(watch.failed());
    }

    public boolean running() {
        return watch.failed() == null && stream != null && (stream.running() || watch.reconnecting());
    }

    /** The newest lag sample taken by this process, or null before the first. */
    public LagSample lastSample() {
        return last;
    }

    /**
     * Whether the target holds everything the source committed up to now: writes a fence into the source's log and
     * waits (up to {@code timeout}) until the stream applied it.
     */
    public boolean syncedNow(Duration timeout) throws InterruptedException {
        return fenceApplied(timeout) && applier.unapplied() == 0;
    }

    /**
     * Whether the target holds every change the source committed before this call (changes held back for chunks
     * still copying aside): writes a fence into the source's log and waits up to {@code timeout} until the stream
     * applied it. The lag-aware recheck of continuous verification waits on this.
     */
    public boolean fenceApplied(Duration timeout) throws InterruptedException {
        String fence = "sync-" + UUID.randomUUID();
        try (Connection c = source.connect()) {
            capture.fence(c, fence);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot write a sync marker on the source: "
                    + source.endpoint().scrub(e.getMessage()), e);
        }
        return applier.awaitFence(fence, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void sampleLoop() {
        Connection c = null;
        // the flag too: the store may swallow the interrupt of a call in flight (H2 reopens its file and clears it)
        while (!stopped && !Thread.currentThread().isInterrupted()) {
            try {
                if (c == null || c.isClosed()) {
                    c = source.connect();
                    c.setAutoCommit(true);
                }
                if (beating) {
                    beat(c);
                }
                LagSample s = sample(capture.currentPosition(c));
                last = s;
                store.lag().record(migrationId, direction, s);
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                break;
            } catch (SQLException | RuntimeException e) {
                log.warn("cannot sample the lag of {} ({}): {}", migrationId, direction.wire(),
                        source.endpoint().scrub(e.getMessage()));
                closeQuietly(c);
                c = null;
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    break;
                }
            }
        }
        closeQuietly(c);
    }

    /**
     * Writes the next heartbeat into the source's log and notes it. If the source refuses (a role that may not write
     * to the log), lag falls back to the history of source positions, with a warning once.
     */
    private void beat(Connection c) throws SQLException {
        long n = beatsWritten++;
        Instant at = store.now();
        changesNow = capture.changesSoFar(c, spec.tables().stream().map(TableInfo::ref).toList()).orElse(-1);
        String position;
        try {
            position = capture.fence(c, beatPrefix + n);
        } catch (SQLException e) {
            if (SqlErrors.classify(e) != SqlErrors.Kind.PRIVILEGE) {
                throw e;
            }
            beating = false;
            log.warn("cannot write lag heartbeats into the {} stream's log of {} ({}); lag seconds count from the "
                    + "source's position history instead", direction.wire(), migrationId,
                    source.endpoint().scrub(String.valueOf(e.getMessage())));
            return;
        }
        beats.addLast(new Beat(n, at, position, changesNow));
        while (beats.size() > 3600) {
            beats.removeFirst(); // an hour of a stalled stream: the oldest keeps the age, the rest are not needed
        }
    }

    private LagSample sample(String sourcePosition) {
        Instant now = store.now();
        sampleTimes.addLast(now);
        samplePositions.addLast(sourcePosition);
        while (sampleTimes.size() > 3600) {
            sampleTimes.removeFirst();
            samplePositions.removeFirst();
        }
        String applied = applier.appliedPosition();
        if (applied == null) {
            applied = store.positions().find(migrationId, direction).map(p -> p.confirmed()).orElse(sourcePosition);
        }
        long distance = capture.distance(applied, sourcePosition);
        long bytes = capture.distanceInBytes() ? distance : 0;
        if (beating) {
            return beatSample(now, sourcePosition, applied, bytes);
        }
        double seconds = 0;
        if (distance > 0) {
            // the earliest sample at which the source was already past the applied position
            var times = sampleTimes.iterator();
            var positions = samplePositions.iterator();
            while (times.hasNext()) {
                Instant t = times.next();
                String p = positions.next();
                if (capture.distance(applied, p) > 0) {
                    seconds = Math.max(0, Duration.between(t, now).toMillis() / 1000.0);
                    break;
                }
            }
        }
        return new LagSample(now, sourcePosition, applied, applier.appliedCommitAt(), seconds, applier.unapplied(),
                bytes);
    }

    /** Lag from the heartbeats (see the class comment). */
    private LagSample beatSample(Instant now, String sourcePosition, String applied, long bytes) {
        long done = beatApplied;
        Beat newest = beats.peekLast();
        while (!beats.isEmpty() && beats.peekFirst().number() <= done) {
            changesApplied = beats.removeFirst().changes();
        }
        Beat oldest = beats.peekFirst();
        // the beat written this very second is not applied yet as a rule: it counts once a later one was written
        boolean behind = oldest != null && oldest != newest;
        double seconds = behind ? Math.max(0, Duration.between(oldest.at(), now).toMillis() / 1000.0) : 0;
        long records = applier.unapplied();
        if (behind && changesNow >= 0 && changesApplied >= 0) {
            records = Math.max(records, changesNow - changesApplied);
        }
        return new LagSample(now, sourcePosition, applied, applier.appliedCommitAt(), seconds, records, bytes);
    }

    /** Stops the stream: graceful finishes the batch in flight; immediate rolls it back. */
    public synchronized void stop(boolean immediate) {
        if (stopped) {
            return;
        }
        stopped = true;
        if (appliedMeter != null) {
            Metrics.globalRegistry.remove(appliedMeter); // a later start registers the counter of its own applier
            appliedMeter = null;
        }
        applier.close(immediate);
        if (stream != null) {
            stream.close();
        }
        if (sampler != null) {
            sampler.interrupt();
        }
        if (watcher != null) {
            watcher.interrupt();
        }
        if (schemaChecker != null) {
            schemaChecker.interrupt();
        }
    }

    @Override
    public void close() {
        stop(false);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // gone
            }
        }
    }
}
