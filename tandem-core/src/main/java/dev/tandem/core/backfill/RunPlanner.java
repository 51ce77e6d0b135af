package dev.tandem.core.backfill;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.KeyJson;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.Runs;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The run a backfill copies, stored with all its chunks before a row moves: a whole new plan, or the redo of a
 * previous run's chunks not yet PASS. A redo never takes a chunk it has no record of for done: a run the store does
 * not hold whole (its planned count says so) is planned anew.
 */
public final class RunPlanner {
    private final ControlStore store;
    private final Consumer<String> say;

    /**
     * What the operator asked: the run to redo ({@code --prev-run}), and seed 003's custom range (both inclusive).
     */
    public record Request(Long prevRunId, String rangeMin, String rangeMax) {
        boolean ranged() {
            return rangeMin != null || rangeMax != null;
        }
    }

    public RunPlanner(ControlStore store, Consumer<String> say) {
        this.store = store;
        this.say = say;
    }

    /** Stores the run to copy next; the jobs' target tables exist. */
    public RunRecord create(Tables t, Request request) throws SQLException {
        Manifest m = t.manifest();
        List<RunRecord> earlier = store.runs().list(m.id()).stream()
                .filter(r -> r.kind() == RunRecord.Kind.BACKFILL).toList();
        if (request.prevRunId() == null) {
            // With schema: create, every target table was created by this migration or found empty by preflight:
            // before any run, no range needs deleting before its first copy.
            return plan(t, request, m.schema() == SchemaMode.CREATE && earlier.isEmpty(), null);
        }
        RunRecord prev = store.runs().get(request.prevRunId());
        if (!store.runs().planIntact(prev)) {
            // The store lost some of the run's chunk rows: a range it has no record of may never have been copied.
            // Only a whole new plan covers every row; ranges already on the target are replaced.
            say.accept("Run " + prev.runId() + " was planned with " + prev.chunksPlanned() + " chunks but the "
                    + "control store holds fewer (it lost writes); planning every chunk again");
            return plan(t, new Request(null, prev.rangeMin(), prev.rangeMax()), false,
                    "replan of run " + prev.runId() + " (chunk rows lost)");
        }
        // A range never started in prev is still empty on the target unless a later run (one whose record this redo
        // does not follow) copied it; any other may hold a committed attempt.
        boolean newest = earlier.isEmpty() || earlier.get(0).runId() == prev.runId();
        List<ChunkRecord> redo = store.runs().toRedo(prev.runId()).stream()
                .map(c -> c.again(newest && c.targetEmpty() && c.status() == ChunkStatus.NOT_STARTED)).toList();
        return store.runs().create(new Runs.NewRun(m.id(), RunRecord.Kind.BACKFILL, prev.runId(), prev.rangeMin(),
                prev.rangeMax(), "redo of run " + prev.runId(), m.data().rowsPerSecond()), redo);
    }

    /** Plans every chunk of every table (within the request's key range) and stores the run with them. */
    private RunRecord plan(Tables t, Request request, boolean empty, String info) throws SQLException {
        Manifest m = t.manifest();
        KeySampler sampler = t.source().keySampler().orElseThrow(() -> TandemException.badInput("the "
                + t.source().name() + " connector cannot split tables into chunks yet"));
        ChunkPlanner planner = new ChunkPlanner(sampler, m.data().chunkRows());
        List<ChunkRecord> chunks = new ArrayList<>();
        say.accept("Planning chunks of about " + m.data().chunkRows() + " rows ...");
        try (Connection c = t.source().connect()) {
            for (TableJob job : t.copyJobs()) {
                KeyRange within = restriction(job, request);
                int no = 0;
                for (ChunkPlanner.PlannedChunk p : planner.plan(c, job.source(), within)) {
                    chunks.add(ChunkRecord.planned(job.name(), no++, KeyJson.write(p.range().lower()),
                            p.range().lowerInclusive(), KeyJson.write(p.range().upper()), p.estimatedRows(), empty));
                }
            }
        }
        return store.runs().create(new Runs.NewRun(m.id(), RunRecord.Kind.BACKFILL, null, request.rangeMin(),
                request.rangeMax(), info, m.data().rowsPerSecond()), chunks);
    }

    /** Seed 003's custom range: --range-min and --range-max, both inclusive, on every table's key. */
    private static KeyRange restriction(TableJob job, Request request) {
        if (!request.ranged()) {
            return null;
        }
        List<KeyColumn> key = job.source().keyColumns();
        List<String> min = request.rangeMin() == null ? null
                : KeyJson.parseOperatorValue(request.rangeMin(), key.size(), "--range-min");
        List<String> max = request.rangeMax() == null ? null
                : KeyJson.parseOperatorValue(request.rangeMax(), key.size(), "--range-max");
        return new KeyRange(key, min, min != null, max);
    }
}
