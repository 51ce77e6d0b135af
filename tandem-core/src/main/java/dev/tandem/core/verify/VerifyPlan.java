package dev.tandem.core.verify;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.KeyJson;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.Runs;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The chunks a verify compares, stored as a verify run before the first is compared: every table split on its key,
 * or the chunks of a previous verify run that were not equal or not reached ({@code --prev-run}).
 */
final class VerifyPlan {
    private VerifyPlan() {
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

    /**
     * Stores the verify run.
     *
     * @param migrationId the migration the run belongs to, or null when the store has none of the manifest's id
     * @param wholeTables tables found equal as a whole: one unbounded chunk each, not planned
     */
    static RunRecord create(ControlStore store, Tables sides, String migrationId, Map<String, TableJob> jobs,
                            Long prevRunId, Set<String> wholeTables) throws SQLException {
        Manifest m = sides.manifest();
        Connector source = sides.source();
        if (prevRunId != null) {
            RunRecord prev = store.runs().get(prevRunId);
            if (prev.kind() != RunRecord.Kind.VERIFY) {
                throw TandemException.badInput("--prev-run " + prev.runId() + " is a " + prev.kind().name()
                        .toLowerCase(Locale.ROOT) + " run, not a verify run; list runs with tandem runs " + m.id());
            }
            List<ChunkRecord> redo = store.runs().toRedo(prev.runId()).stream()
                    .filter(c -> jobs.containsKey(c.tableName())).map(c -> c.again(false)).toList();
            return store.runs().create(new Runs.NewRun(migrationId, RunRecord.Kind.VERIFY, prev.runId(), null, null,
                    "verify again the unequal chunks of run " + prev.runId(), 0), redo);
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
        return store.runs().create(new Runs.NewRun(migrationId, RunRecord.Kind.VERIFY, null, null, null,
                migrationId == null ? "verify of " + m.id() + " (no migration of that id in this store)" : "verify",
                0), chunks);
    }
}
