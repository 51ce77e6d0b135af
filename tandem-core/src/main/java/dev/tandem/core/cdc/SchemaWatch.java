package dev.tandem.core.cdc;

import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.ScopeResolver;
import dev.tandem.core.plan.TableJob;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ColumnChange;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Introspector;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.TableShapes;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Schema changes on the source while a migration streams (DESIGN.md correctness point 6): each table's shape as the
 * stream announces it ({@link Change.Kind#SCHEMA}) and, every {@code cdc.schema_check_interval}, both catalogs of
 * every table in scope (for DDL no change has shown yet: a dropped column, a table nothing writes to, a new table
 * matching an include pattern) are held against the target by {@link SchemaDiff}; a difference is acted on by
 * {@code cdc.on_schema_change}. The shapes the migration started with live in the store
 * ({@link TableShapes}), so a restart tells a column dropped on the source from one the target always had.
 * <p>Called on the stream's thread (with the stream's apply held, so no batch is half applied when the target is
 * altered) and on the runner's check thread; one at a time.
 */
public final class SchemaWatch {
    /** The name of the alert a schema change stop fires (resolved once the catalogs agree again). */
    public static final String ALERT = "schema_change";
    /** How long Tandem's own ALTER on the target may wait (for its lock, mostly) before the stream stops instead. */
    private static final int ALTER_TIMEOUT_SECONDS = 60;

    /** A table once it passed: both sides as they are now, for the apply side's view of it. */
    public record Sides(TableInfo source, TableInfo target) {
    }

    private final ControlStore store;
    private final Manifest manifest;
    private final Connector source;
    private final Connector target;
    private final SchemaCopier copier;
    private final boolean sameEngine;
    private final Map<String, TableJob> jobs = new LinkedHashMap<>();
    private final Consumer<String> say;
    private Map<String, TableShapes.Shape> started = Map.of();

    public SchemaWatch(ControlStore store, Manifest manifest, Connector source, Connector target, List<TableJob> jobs,
                       Consumer<String> say) {
        this.store = store;
        this.manifest = manifest;
        this.source = source;
        this.target = target;
        this.copier = source.schemaCopier(target.name()).orElse(null);
        this.sameEngine = source.name().equals(target.name());
        jobs.forEach(j -> this.jobs.put(j.name(), j));
        this.say = say;
    }

    public Cdc.OnSchemaChange policy() {
        return manifest.cdc().onSchemaChange();
    }

    /**
     * At the stream's start: records the shapes of a migration that has none yet (its first start: the shapes its
     * target was created or validated with), then compares the catalogs. Once they agree, a schema change alert
     * still open is resolved (the operator altered the target and resumed).
     *
     * @throws SchemaStop when a table differs, or a table in scope is not one the migration started with
     */
    public synchronized Map<String, Sides> start() throws SQLException {
        started = new LinkedHashMap<>(store.tableShapes().load(manifest.id()));
        boolean first = started.isEmpty();
        for (TableJob j : jobs.values()) {
            if (!started.containsKey(j.name())) {
                if (!first) {
                    throw newTable(j.name());
                }
                TableShapes.Shape s = TableShapes.Shape.of(j.source(), j.target());
                store.tableShapes().save(manifest.id(), j.name(), s);
                started.put(j.name(), s);
            }
        }
        Map<String, Sides> now = catalogs();
        for (var a : store.alerts().list(manifest.id(), true)) {
            if (a.name().equals(ALERT)) {
                store.alerts().resolve(a.id());
                say.accept("  the catalogs agree again; alert " + ALERT + " resolved");
            }
        }
        return now;
    }

    /**
     * The stream announced {@code schema}'s table shape: held against the target now (and altered under
     * {@code apply} where that is safe). Everything before it is committed on the target when this is called.
     *
     * @return both sides of the table as they are now
     * @throws SchemaStop when the stream must stop before this change
     */
    public synchronized Sides streamed(Change schema) throws SQLException {
        try (Connection s = source.connect(); Connection t = target.connect()) {
            return check(s, t, schema.table(), schema.columns(), schema.position());
        }
    }

    /**
     * Both catalogs of every table in scope, compared (every {@code cdc.schema_check_interval}).
     *
     * @return each table's sides as they are now
     * @throws SchemaStop at the first table that differs
     */
    public synchronized Map<String, Sides> catalogs() throws SQLException {
        Map<String, Sides> out = new LinkedHashMap<>();
        try (Connection s = source.connect(); Connection t = target.connect()) {
            Introspector in = source.introspector();
            ScopeResolver.Resolution scope = ScopeResolver.resolve(manifest.scope(), in.listTables(s),
                    in.defaultSchema(s), in.listsOnlyPrivilegedTables());
            for (TableRef r : scope.tables()) {
                if (!jobs.containsKey(r.qualified())) {
                    throw newTable(r.qualified());
                }
            }
            for (String name : jobs.keySet()) {
                out.put(name, check(s, t, name, null, null));
            }
        }
        return out;
    }

    /**
     * A chunk of {@code name} was read and is about to be committed: its columns on the source must still be the ones
     * the copy reads. Read after the chunk's read ended, so a DDL the chunk's snapshot could have seen is seen here
     * (a DDL after this check comes later than the chunk's snapshot: the stream carries its changes). A chunk copied
     * with the old columns after an ADD COLUMN would lack the new column's values — and the changes that set them
     * were dropped by the per-chunk rule, as older than the chunk's snapshot — so this stops under every policy:
     * the remaining chunks must be copied with the new columns, which {@code tandem resume} does.
     *
     * @throws SchemaStop when the columns differ
     */
    public void copying(String name, Connection s) throws SQLException {
        TableJob job = jobs.get(name); // filled once, by the constructor: read without the lock
        if (job == null) {
            return;
        }
        // on the copy worker's own connection and outside the lock: the workers do not wait for one another
        TableInfo now = source.introspector().describe(s, job.source().ref()).orElse(null);
        if (now != null && columns(now).equals(columns(job.source()))) {
            return;
        }
        differsWhileCopying(name, job, now);
    }

    private synchronized void differsWhileCopying(String name, TableJob job, TableInfo now) throws SQLException {
        List<String> what = new ArrayList<>();
        List<String> fix = new ArrayList<>();
        if (now == null) {
            what.add("the table is gone from the source");
        } else {
            try (Connection t = target.connect()) {
                TableInfo there = target.introspector().describe(t, job.target().ref()).orElse(null);
                List<ColumnChange> diffs = there == null ? List.of()
                        : SchemaDiff.between(null, now, there, started.get(name), sameEngine);
                diffs.forEach(d -> what.add(d.describe()));
                diffs.forEach(d -> fix.addAll(copier == null ? List.of() : copier.alterStatements(job.target().ref(),
                        d)));
            }
            if (what.isEmpty()) {
                what.add("its columns are now " + columns(now) + " (the target has them too)");
            }
        }
        what.add("this happened while its chunks were being copied with the columns the copy started with");
        fix.add("tandem resume " + manifest.id() + " copies the remaining chunks with the new columns");
        throw new SchemaStop(name, null, what, fix, policy() == Cdc.OnSchemaChange.ABORT
                ? Cdc.OnSchemaChange.ABORT : Cdc.OnSchemaChange.STOP);
    }

    /** A table's columns with their types, in order: what a copy reads. */
    private static List<String> columns(TableInfo t) {
        return t.columns().stream().map(c -> c.name() + " " + c.nativeType()).toList();
    }

    private Sides check(Connection s, Connection t, String name, List<String> streamed, String position)
            throws SQLException {
        TableJob job = jobs.get(name);
        if (job == null) {
            return null; // a table the publication carries that this migration does not move
        }
        TableInfo now = source.introspector().describe(s, job.source().ref()).orElse(null);
        TableInfo there = target.introspector().describe(t, job.target().ref()).orElse(null);
        if (now == null || there == null) {
            throw new SchemaStop(name, position, List.of("the table is gone from the " + (now == null ? "source"
                    : "target")), List.of("re-create it there, or abort the migration: tandem abort "
                    + manifest.id()), policy());
        }
        List<ColumnChange> diffs = SchemaDiff.between(streamed, now, there, started.get(name), sameEngine);
        if (diffs.isEmpty()) {
            if (streamed == null) {
                accept(name, now, there);
            }
            return new Sides(now, there);
        }
        if (policy() == Cdc.OnSchemaChange.APPLY && copier != null && diffs.stream().allMatch(this::safe)) {
            List<String> sql = new ArrayList<>();
            diffs.forEach(d -> sql.addAll(copier.alterStatements(job.target().ref(), d)));
            if (!sql.isEmpty()) {
                try {
                    alter(t, sql);
                } catch (SQLException e) {
                    throw new SchemaStop(name, position, diffs.stream().map(ColumnChange::describe).toList(),
                            List.of(String.join("; ", sql) + " (Tandem's own ALTER failed: " + manifest.target()
                                    .scrub(String.valueOf(e.getMessage())) + ")"), policy());
                }
                for (ColumnChange d : diffs) {
                    store.audit().record(manifest.id(), "tandem (cdc.on_schema_change: apply)", "schema_change",
                            name + ": " + d.describe() + (position == null ? "" : " at " + position));
                }
                say.accept("  schema change on " + name + " applied to the target: " + String.join("; ", sql));
                TableInfo altered = target.introspector().describe(t, job.target().ref()).orElseThrow();
                accept(name, now, altered);
                return new Sides(now, altered);
            }
        }
        List<String> fix = new ArrayList<>();
        diffs.forEach(d -> fix.addAll(copier == null ? List.of() : copier.alterStatements(job.target().ref(), d)));
        if (fix.isEmpty()) {
            fix.add("alter " + job.target().ref() + " on the target to match the source");
        }
        return stop(name, position, diffs, fix);
    }

    private Sides stop(String name, String position, List<ColumnChange> diffs, List<String> fix) {
        List<String> what = new ArrayList<>();
        for (ColumnChange d : diffs) {
            what.add(d.describe() + (policy() == Cdc.OnSchemaChange.APPLY && !safe(d) ? " (" + unsafe(d) + ")" : ""));
        }
        throw new SchemaStop(name, position, what, fix, policy());
    }

    /** Whether Tandem may make {@code d} on the target itself. */
    private boolean safe(ColumnChange d) {
        return switch (d.kind()) {
            case ADD -> SchemaDiff.safeToAdd(d.source());
            case DROP -> true;
            case TYPE -> copier != null && copier.widens(d.targetType(), d.source().nativeType());
            case RENAME -> false;
        };
    }

    private static String unsafe(ColumnChange d) {
        return switch (d.kind()) {
            case ADD -> "not applied by Tandem: its default is not a constant, or it is generated or an identity, so "
                    + "existing rows would get other values on the target";
            case TYPE -> "not applied by Tandem: not a widening it knows to keep every value";
            case RENAME -> "not applied by Tandem: a drop and an add would lose the column's values";
            case DROP -> "";
        };
    }

    /** Tandem's own ALTERs, in one target transaction that waits for its lock a bounded time. */
    private static void alter(Connection t, List<String> sql) throws SQLException {
        boolean auto = t.getAutoCommit();
        t.setAutoCommit(false);
        try (Statement st = t.createStatement()) {
            st.setQueryTimeout(ALTER_TIMEOUT_SECONDS);
            for (String q : sql) {
                st.execute(q);
            }
            t.commit();
        } catch (SQLException e) {
            t.rollback();
            throw e;
        } finally {
            t.setAutoCommit(auto);
        }
    }

    /**
     * Both sides take the rows: their shapes are what later changes are told against. A column the source had and
     * the target still has stays recorded as a source column although the source's catalog lacks it now: the catalog
     * can be ahead of the stream (a drop made after the change being checked), and forgetting it would make the
     * drop, once the stream reaches it, look like a column of the target's own.
     */
    private void accept(String name, TableInfo now, TableInfo there) {
        TableShapes.Shape before = started.get(name);
        TableShapes.Shape s = TableShapes.Shape.of(now, there);
        if (before != null) {
            Map<String, String> source = new LinkedHashMap<>(s.source());
            before.source().forEach((column, type) -> {
                if (there.column(column).isPresent()) {
                    source.putIfAbsent(column, type);
                }
            });
            s = new TableShapes.Shape(source, s.target());
        }
        if (!s.equals(before)) {
            store.tableShapes().save(manifest.id(), name, s);
            started.put(name, s);
        }
    }

    private SchemaStop newTable(String name) {
        return new SchemaStop(name, null, List.of("table " + name + " is in scope (" + scopeText() + ") but is not "
                + "one of the tables this migration started with: it was created on the source meanwhile"),
                List.of("a running migration does not take in new tables (they need a copy and a place in the "
                        + "change stream): rename it out of the scope and resume, move it with a second migration, "
                        + "or abort this one (tandem abort " + manifest.id() + ") and migrate again"), policy());
    }

    private String scopeText() {
        var sc = manifest.scope();
        return sc.include().isEmpty() ? "scope.tables" : "scope.include " + sc.include();
    }
}
