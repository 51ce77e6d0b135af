package dev.tandem.core.migrate;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.store.StreamDirection;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Phase prepare, and what the schema needs after the copy. Prepare creates the target tables ({@code schema: create};
 * {@code existing} relies on the tables preflight checked) and, with change data capture, opens the change log before
 * any row is copied (DESIGN.md correctness point 1); then the migration advances to backfill. After a complete copy
 * of whole tables, {@link #finish} builds keys, indexes and foreign keys and sets sequences.
 */
final class SchemaStep {

    /** Prepare: tables, change log, advance to backfill. Returns an outcome only when stopped meanwhile. */
    Optional<MigrationOutcome> prepare(RunContext ctx) throws SQLException {
        ctx.schemaActions.addAll(createTables(ctx));
        if (ctx.manifest().cdc().enabled()) {
            openStream(ctx);
        }
        ctx.transition(LifecycleEvent.ADVANCE, Phase.BACKFILL, ctx.schemaActions.size() + " schema changes on the "
                + "target");
        return ctx.stop.requested() ? Optional.of(ctx.paused("")) : Optional.empty();
    }

    /**
     * Opens the forward stream and stores P0 unless that is done already: also called before streaming resumes, when
     * it does something only if a crash came between creating the slot and storing P0.
     */
    void openStream(RunContext ctx) {
        Manifest m = ctx.manifest();
        Optional<String> p0;
        try {
            p0 = Streams.openForward(ctx.store, ctx.tables);
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot open the change stream on the source: "
                    + m.source().scrub(e.getMessage()) + "; tandem plan -f MANIFEST lists the privileges it needs", e);
        }
        if (p0.isPresent()) {
            String every = m.cdc().pollInterval().toString().substring(2).toLowerCase(Locale.ROOT);
            boolean binlog = Engine.of(ctx.source().name()).map(Engine::mysqlFamily).orElse(false);
            ctx.say("Opened the change stream " + Streams.name(m.id(), StreamDirection.FORWARD) + " at " + p0.get()
                    + (m.cdc().method() == Cdc.Method.TIMESTAMP_COLUMN ? " (polling " + m.cdc().timestampColumn()
                    + " every " + every + "; nothing is created on the source)"
                    : binlog ? " (a position in the binary log; nothing is created on the source)"
                    : " (publication and logical replication slot on the source)") + ", before any row is copied");
        }
    }

    /** After the copy ({@code schema: create}): keys, indexes, foreign keys, sequences; recorded as schema actions. */
    void finish(RunContext ctx, boolean streaming) throws SQLException {
        if (ctx.manifest().schema() != SchemaMode.CREATE) {
            return;
        }
        ctx.say("Building indexes and foreign keys, setting sequences ...");
        try (Connection s = ctx.source().connect()) {
            List<String> done = copier(ctx.source(), ctx.target()).finishTables(s, ctx.target()::connect,
                    ctx.tables.sourceTables(), ctx.manifest().data().parallelism(), streaming);
            done.forEach(line -> ctx.say("  " + line));
            ctx.schemaActions.addAll(done);
        }
    }

    private List<String> createTables(RunContext ctx) throws SQLException {
        Manifest m = ctx.manifest();
        if (m.schema() == SchemaMode.EXISTING) {
            ctx.say("Using the existing target tables (schema: existing; checked by preflight)");
            return List.of();
        }
        SchemaCopier copier = copier(ctx.source(), ctx.target());
        ctx.say("Creating " + ctx.tables.sourceTables().size() + " tables on the target ...");
        // Keys after the data when nothing needs them during the load (no stream applies changes by key yet).
        boolean deferKeys = !m.cdc().enabled() && m.data().replace() == DataMovement.Replace.REPLACE;
        try (Connection s = ctx.source().connect(); Connection t = ctx.target().connect()) {
            List<String> done = copier.createTables(s, t, ctx.tables.sourceTables(), deferKeys);
            done.forEach(line -> ctx.say("  " + line));
            return done;
        }
    }

    private static SchemaCopier copier(Connector source, Connector target) {
        return source.schemaCopier(target.name()).orElseThrow(() -> TandemException.badInput(
                "schema: create cannot create " + source.name() + " tables on " + target.name() + " yet; create the "
                        + "target tables yourself and set schema: existing"));
    }
}
