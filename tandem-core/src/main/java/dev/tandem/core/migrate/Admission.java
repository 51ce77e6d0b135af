package dev.tandem.core.migrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.plan.EndpointReport;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.RunStatus;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What happens before a migration runs in this process: what is not built yet is refused; the migration is
 * registered (a first run) or its rerun checked against the store (the run it names is its own), and a rerun without
 * a run id continues the newest run; preflight checks both sides exactly as {@code tandem plan} does; the migration
 * moves into running. Nothing here changes a database.
 */
final class Admission {
    private final ControlStore store;
    private final ConnectorRegistry registry;
    private final Consumer<String> say;

    Admission(ControlStore store, ConnectorRegistry registry, Consumer<String> say) {
        this.store = store;
        this.registry = registry;
        this.say = say;
    }

    /** A migration registered, with the options it runs with (the run it continues filled in). */
    record Admitted(MigrationRecord record, RunOptions options) {
    }

    Admitted admit(ManifestDocument doc, RunOptions opts) {
        Manifest m = doc.manifest();
        refuseWhatIsNotBuiltYet(m, opts);
        MigrationRecord record = register(doc, opts);
        return new Admitted(record, continuation(record, opts));
    }

    /**
     * The run a continuation of {@code r} redoes: its newest backfill run while the copy is not done (only the chunks
     * not yet PASS are copied again), else none: in catch-up the stream resumes from its confirmed position, and after
     * a finished run restricted to a key range a new run plans every table whole.
     */
    static Long runToContinue(ControlStore store, MigrationRecord r) {
        if (!r.status().phase().isBefore(Phase.CATCH_UP)) {
            return null;
        }
        return store.runs().list(r.id()).stream().filter(x -> x.kind() == RunRecord.Kind.BACKFILL).findFirst()
                .filter(x -> x.status() != RunStatus.ENDED || (x.rangeMin() == null && x.rangeMax() == null))
                .map(RunRecord::runId).orElse(null);
    }

    /**
     * Preflight, as {@code tandem plan} does it; any problem stops the run before anything is changed.
     *
     * @param record as registered: a migration that ever left ready may have made some tables, which is then expected
     */
    void preflight(Manifest m, MigrationRecord record, RunOptions opts) {
        boolean resuming = opts.prevRunId() != null || record.status().state() != MigrationState.READY;
        say.accept("Checking source and target (as tandem plan does) ...");
        PlanReport plan = new Planner(registry).plan(m, resuming);
        if (plan.ok()) {
            return;
        }
        List<String> problems = new ArrayList<>();
        for (EndpointReport e : List.of(plan.source(), plan.target())) {
            e.findings().stream().filter(Finding::isError)
                    .forEach(f -> problems.add(e.role() + ": " + f.message() + "; fix: " + f.fix()));
        }
        throw new TandemException(plan.failure(), "preflight found " + problems.size() + " problem"
                + (problems.size() == 1 ? "" : "s") + "; nothing was changed:\n  - "
                + String.join("\n  - ", problems) + "\nRun tandem plan -f for the full report.", problems, null);
    }

    /** Moves the migration into running, from wherever a first run or a rerun finds it. */
    Status start(String id, Status current, String actor) {
        return switch (current.state()) {
            case READY -> store.migrations().transition(id, LifecycleEvent.START, null, actor, null).status();
            case FAILED -> store.migrations().transition(id, LifecycleEvent.RETRY, null, actor, null).status();
            case PAUSED -> store.migrations().transition(id, LifecycleEvent.RESUME, null, actor, null).status();
            // A process that died while running left the state as it was; its lease (now ours) was stale.
            case RUNNING -> current;
            default -> throw TandemException.badState("cannot run migration " + id + ": expected state ready, paused, "
                    + "failed or running, actual " + current.state().wire());
        };
    }

    /**
     * A rerun without --prev-run continues the newest backfill run while the copy is not done (as a server resuming
     * the migration does), so "run it again" needs no run id; a run restricted to a key range starts its own run.
     */
    private RunOptions continuation(MigrationRecord record, RunOptions opts) {
        if (opts.prevRunId() != null || opts.rangeMin() != null || opts.rangeMax() != null) {
            return opts;
        }
        Long run = runToContinue(store, record);
        if (run == null) {
            return opts;
        }
        say.accept("Continuing run " + run + " (its chunks not yet PASS are copied again)");
        return new RunOptions(run, null, null, opts.actor());
    }

    /**
     * What {@link Built} says is not built, refused before the migration is registered (preflight would refuse it
     * too, after registering); and a key range with a change stream.
     */
    private void refuseWhatIsNotBuiltYet(Manifest m, RunOptions opts) {
        List<String> gaps = Built.gaps(m, connector(m.source(), "source"), connector(m.target(), "target")).stream()
                .map(Built.Gap::line).toList();
        if (!gaps.isEmpty()) {
            throw new TandemException(ErrorCode.BAD_INPUT, "not built yet, so nothing was "
                    + "changed:\n  - " + String.join("\n  - ", gaps) + "\nRun tandem plan -f for the full report.",
                    gaps, null);
        }
        if (m.cdc().enabled() && (opts.rangeMin() != null || opts.rangeMax() != null)) {
            throw TandemException.badInput("--range-min/--range-max copy part of each table, but a change stream "
                    + "applies changes to every row; leave them out, or set cdc: {method: none}");
        }
    }

    /** The endpoint's connector, or null when it cannot be chosen now (preflight then says why). */
    private Connector connector(Endpoint e, String at) {
        try {
            return registry.select(e, at);
        } catch (SQLException | TandemException ex) {
            return null;
        }
    }

    /** Creates the migration on its first run; on a rerun checks that the previous run is this migration's. */
    private MigrationRecord register(ManifestDocument doc, RunOptions opts) {
        Manifest m = doc.manifest();
        String json = json(doc);
        Optional<MigrationRecord> existing = store.migrations().find(m.id());
        if (existing.isEmpty()) {
            if (opts.prevRunId() != null) {
                throw TandemException.notFound("--prev-run " + opts.prevRunId() + ": migration " + m.id()
                        + " has no runs in the control store " + store.display() + "; check --store, or drop "
                        + "--prev-run to start");
            }
            store.migrations().create(m.id(), m.description(), json, opts.actor());
            return store.migrations().transition(m.id(), LifecycleEvent.CONFIGURE, null, opts.actor(),
                    "tandem migrate");
        }
        MigrationRecord r = existing.get();
        if (r.status().state().isTerminal()) {
            throw TandemException.badState("migration " + m.id() + " is " + r.status().state().wire()
                    + "; expected a migration still to finish. Use another id to migrate again");
        }
        if (!r.status().phase().isBefore(Phase.CATCH_UP)) {
            // The copy is done; a rerun resumes streaming from the confirmed position.
            return updated(r, m, json, opts, "resumed stream");
        }
        if (opts.prevRunId() == null) {
            // continues its newest run (see continuation), or, stopped before its first run was stored (in preflight
            // or while creating tables), starts one
            return updated(r, m, json, opts, "rerun");
        }
        RunRecord prev = store.runs().find(opts.prevRunId()).orElseThrow(() -> TandemException.notFound(
                "--prev-run " + opts.prevRunId() + ": run not found in the control store " + store.display()
                + ". Run tandem migrate -f MANIFEST without --prev-run: it continues from the newest run the store "
                + "holds for " + m.id() + " (list them with tandem runs " + m.id() + ")"));
        if (!m.id().equals(prev.migrationId()) || prev.kind() != RunRecord.Kind.BACKFILL) {
            throw TandemException.badInput("--prev-run " + opts.prevRunId() + " is a " + prev.kind().name()
                    .toLowerCase(Locale.ROOT) + " run of migration " + prev.migrationId() + ", not a backfill "
                    + "run of " + m.id() + "; list this migration's runs with tandem runs " + m.id());
        }
        return updated(r, m, json, opts, "rerun of run " + prev.runId());
    }

    private MigrationRecord updated(MigrationRecord r, Manifest m, String json, RunOptions opts,
                                    String why) {
        if (json.equals(r.manifest())) {
            return r;
        }
        return store.migrations().updateManifest(m.id(), r.version(), m.description(), json, opts.actor(),
                "manifest changed for the " + why);
    }

    private static String json(ManifestDocument doc) {
        try {
            return new ObjectMapper().writeValueAsString(doc.document());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
