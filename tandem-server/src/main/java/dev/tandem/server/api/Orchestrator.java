package dev.tandem.server.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.AlertEvent;
import dev.tandem.core.migrate.MigrationControl;
import dev.tandem.core.migrate.MigrationListener;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.verify.VerifyReport;
import dev.tandem.core.verify.VerifyRunner;
import dev.tandem.server.wire.Json;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs migrations inside the server (DESIGN.md control plane): each on a thread of its own, through the same
 * {@link MigrationRunner} as {@code tandem migrate}, so the store's records, leases and resumability are the same.
 * The store stays the truth: on start the server resumes every migration that was running when a server died (its
 * state still running, its lease stale) and those its own shutdown paused; a server stopping pauses what it runs.
 */
final class Orchestrator implements AutoCloseable {
    /** The reason a server shutdown pauses its migrations with; the next start resumes exactly those. */
    static final String SHUTDOWN = "server shutdown";
    private static final Logger LOG = LoggerFactory.getLogger(Orchestrator.class);

    private record Running(MigrationRunner runner, Thread thread) {
    }

    private final ControlStore store;
    private final Map<String, String> env;
    private final Events events;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Map<String, String> lastError = new ConcurrentHashMap<>();
    private final Map<String, Thread> verifying = new ConcurrentHashMap<>();

    Orchestrator(ControlStore store, Map<String, String> env, Events events) {
        this.store = store;
        this.env = env;
        this.events = events;
    }

    /** Resolves the {@code ${env:...}} references of stored manifests. */
    java.util.function.Function<String, String> env() {
        return env::get;
    }

    ManifestReader reader() {
        return new ManifestReader(env::get);
    }

    /** The stored manifest, read with this server's environment for its {@code ${env:...}} references. */
    ManifestDocument manifest(MigrationRecord r, ManifestReader.Purpose purpose) {
        return store.migrations().manifest(r, env::get, purpose);
    }

    /** seed 002's failure_handling of the migration, as its manifest says (e.g. {@code retry_then_all (3)}). */
    String failureHandling(MigrationRecord r) {
        try {
            var fh = manifest(r, ManifestReader.Purpose.DRAFT).manifest().failureHandling();
            String type = fh.type().name().toLowerCase(java.util.Locale.ROOT);
            return fh.type() == dev.tandem.core.manifest.FailureHandling.Type.RETRY_THEN_ALL
                    ? type + " (" + fh.retryCount() + ")" : type;
        } catch (TandemException e) {
            return null;
        }
    }

    boolean isRunningHere(String id) {
        return running.containsKey(id);
    }

    Optional<String> lastError(String id) {
        return Optional.ofNullable(lastError.get(id));
    }

    /**
     * Starts (or continues) the migration on a thread of this server: prepare → backfill → catch_up, as
     * {@code tandem migrate} does. A migration in backfill continues its newest backfill run (only the chunks not
     * done are copied); one in catch-up resumes its stream from the confirmed position.
     */
    synchronized void migrate(String id, String actor) {
        MigrationRecord r = store.migrations().get(id);
        MigrationState state = r.status().state();
        if (state == MigrationState.PENDING) {
            throw TandemException.badState("cannot migrate " + id + ": expected state ready, actual pending (source "
                    + "and target are not both configured; PATCH /api/v1/migrations/" + id
                    + " with source and target)");
        }
        if (running.containsKey(id)) {
            throw TandemException.badState("cannot migrate " + id + ": it is already running in this server (phase "
                    + r.status().phase().wire() + ")");
        }
        Optional<String> holder = store.leases().liveHolder(id);
        if (holder.isPresent()) {
            throw TandemException.badState("cannot migrate " + id + ": another process works on it (" + holder.get()
                    + "); stop it first (POST /api/v1/migrations/" + id + "/stop)");
        }
        ManifestDocument doc = manifest(r, ManifestReader.Purpose.RUN);
        Long prevRun = MigrationRunner.runToContinue(store, r);
        RunOptions opts = new RunOptions(prevRun, null, null, actor);
        MigrationRunner runner = new MigrationRunner(store, ConnectorRegistry.load(), listener(id));
        lastError.remove(id);
        Thread t = new Thread(() -> run(id, runner, doc, opts), "tandem-migration-" + id);
        t.setDaemon(true);
        running.put(id, new Running(runner, t));
        t.start();
        LOG.info("[{}] started by {}{}", id, actor, prevRun == null ? "" : " (continuing run " + prevRun + ")");
    }

    private void run(String id, MigrationRunner runner, ManifestDocument doc, RunOptions opts) {
        try {
            MigrationOutcome o = runner.migrate(doc, opts);
            if (o.failure() != null) {
                lastError.put(id, o.message());
            }
            LOG.info("[{}] {}: {}", id, o.status(), o.message());
        } catch (TandemException e) {
            lastError.put(id, e.getMessage());
            LOG.warn("[{}] stopped: {}", id, e.getMessage());
        } catch (RuntimeException e) {
            lastError.put(id, "internal error: " + e);
            LOG.error("[{}] internal error (a bug in Tandem)", id, e);
        } finally {
            running.remove(id);
            publishState(id);
        }
    }

    void publishState(String id) {
        store.migrations().find(id).ifPresent(r -> {
            ObjectNode d = Json.migration(r);
            lastError(id).ifPresent(e -> d.put("last_error", e));
            events.publish(id, "state", d);
        });
    }

    /**
     * What a migration running here tells: lines to the log and the event stream, alerts and given-up tables as
     * their own events, copy progress at most a few times a second.
     */
    private MigrationListener listener(String id) {
        return new MigrationListener() {
            private long last;

            @Override
            public void line(String text) {
                LOG.info("[{}] {}", id, text);
                events.log(id, text);
            }

            @Override
            public void alert(AlertEvent e) {
                line(e.line());
                ObjectNode d = Json.MAPPER.createObjectNode();
                d.put("line", e.line());
                d.put("alert", e.rule());
                d.put("severity", e.severity());
                d.put("state", e.firing() ? "firing" : "resolved");
                d.put("condition", e.condition());
                d.put("message", e.message());
                d.put("observed", e.observed());
                events.publish(id, "alert", d);
            }

            @Override
            public void tableGivenUp(String table, String why) {
                MigrationListener.super.tableGivenUp(table, why);
                ObjectNode d = Json.MAPPER.createObjectNode();
                d.put("table", table);
                d.put("error", why);
                events.publish(id, "table_failed", d);
            }

            @Override
            public synchronized void chunkDone(String table, int chunkNo, long rows, long bytes, long streamedRows) {
                long now = System.nanoTime();
                if (now - last < 250_000_000L) {
                    return;
                }
                last = now;
                ObjectNode d = Json.MAPPER.createObjectNode();
                d.put("table", table);
                d.put("chunk_no", chunkNo);
                d.put("rows", rows);
                events.publish(id, "progress", d);
            }

            @Override
            public void warning(String message) {
                events.log(id, "warning: " + message);
            }
        };
    }

    /**
     * Pauses: a migration running here stops (chunks in flight roll back; the stream records its position); one
     * another process holds is asked to stop through the store; one whose process died is marked paused.
     */
    void pause(String id, String actor, boolean immediate) throws InterruptedException {
        MigrationRecord r = store.migrations().get(id);
        Running here = running.get(id);
        if (here != null) {
            here.runner().stop("paused by " + actor + (immediate ? " (immediate)" : ""), immediate);
            here.thread().join(120_000);
            if (here.thread().isAlive()) {
                throw TandemException.badState("migration " + id + " did not stop within 120 s; it is still "
                        + "running; try again");
            }
            return;
        }
        if (store.leases().liveHolder(id).isPresent()) {
            new MigrationControl(store, env::get).requestStopAndWait(id, immediate
                    ? dev.tandem.core.store.Requests.Kind.STOP_IMMEDIATE : dev.tandem.core.store.Requests.Kind.STOP,
                    actor, 60);
            return;
        }
        store.migrations().transition(id, r.status(), LifecycleEvent.PAUSE, null, actor,
                "paused (no process was running it)");
        publishState(id);
    }

    void resume(String id, String actor) {
        MigrationRecord r = store.migrations().get(id);
        if (r.status().state() != MigrationState.PAUSED) {
            throw TandemException.badState("cannot resume migration " + id + ": expected state paused, actual "
                    + r.status().state().wire());
        }
        migrate(id, actor);
    }

    MigrationRecord abort(String id, String actor) throws InterruptedException {
        Running here = running.get(id);
        if (here != null) {
            here.runner().stop("aborted by " + actor, true);
            here.thread().join(120_000);
        }
        MigrationRecord done = new MigrationControl(store, env::get).abort(id, actor, "abort requested through the "
                + "API", line -> events.log(id, line));
        publishState(id);
        return done;
    }

    /**
     * A lag-aware verify of the migration's tables (as {@code tandem verify}), on a thread of its own; its run,
     * chunks and drift are in the store when it ends, and an event carries the report.
     */
    synchronized void verify(String id, boolean repair) {
        if (verifying.containsKey(id)) {
            throw TandemException.badState("a verify of " + id + " is already running; wait for it (GET /api/v1/"
                    + "migrations/" + id + "/runs)");
        }
        MigrationRecord r = store.migrations().get(id);
        Manifest m = manifest(r, ManifestReader.Purpose.RUN).manifest();
        Thread t = new Thread(() -> {
            try {
                VerifyReport report = new VerifyRunner(store, ConnectorRegistry.load(), line -> {
                    LOG.info("[{}] verify: {}", id, line);
                    events.log(id, "verify: " + line);
                }).verify(m, new VerifyRunner.Options(null, repair));
                ObjectNode d = Json.MAPPER.createObjectNode();
                d.put("run_id", report.runId());
                d.put("equal", report.equal());
                d.put("differing_rows", report.differing());
                d.put("unrepaired_rows", report.unrepaired());
                d.put("schema_differences", report.schemaDifferences());
                d.put("in_flight_rows", report.inFlight());
                events.publish(id, "verify", d);
            } catch (TandemException e) {
                lastError.put(id, "verify: " + e.getMessage());
                LOG.warn("[{}] verify failed: {}", id, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("[{}] verify: internal error (a bug in Tandem)", id, e);
            } finally {
                verifying.remove(id);
            }
        }, "tandem-verify-" + id);
        t.setDaemon(true);
        verifying.put(id, t);
        t.start();
    }

    boolean isVerifying(String id) {
        return verifying.containsKey(id);
    }

    /**
     * After a restart: continues every migration a dead process left running (state running, lease stale) and every
     * one this server's own shutdown paused.
     */
    void resumeAll() {
        for (MigrationRecord r : store.migrations().list()) {
            try {
                MigrationState s = r.status().state();
                boolean died = s == MigrationState.RUNNING && store.leases().liveHolder(r.id()).isEmpty();
                boolean shutDown = s == MigrationState.PAUSED && pausedByShutdown(r.id());
                if (died || shutDown) {
                    LOG.info("[{}] resuming ({})", r.id(), died ? "its process stopped while running" : SHUTDOWN);
                    migrate(r.id(), "tandem server (restart)");
                }
            } catch (TandemException e) {
                lastError.put(r.id(), e.getMessage());
                LOG.warn("[{}] cannot resume: {}", r.id(), e.getMessage());
            }
        }
    }

    private boolean pausedByShutdown(String id) {
        List<AuditEntry> audit = store.audit().list(id);
        for (int i = audit.size() - 1; i >= 0; i--) {
            AuditEntry e = audit.get(i);
            if (e.to() != null) {
                return e.to().state() == MigrationState.PAUSED && SHUTDOWN.equals(e.detail());
            }
        }
        return false;
    }

    /** Pauses every migration this server runs (they resume when it starts again). */
    @Override
    public void close() {
        for (Running r : running.values()) {
            r.runner().stop(SHUTDOWN, false);
        }
        for (Running r : running.values()) {
            try {
                r.thread().join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
