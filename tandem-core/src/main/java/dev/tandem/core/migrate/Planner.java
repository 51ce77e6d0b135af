package dev.tandem.core.migrate;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.Enums;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.manifest.Strategy;
import dev.tandem.core.manifest.WriteMode;
import dev.tandem.core.plan.EndpointReport;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.plan.ScopeResolver;
import dev.tandem.core.plan.Sizes;
import dev.tandem.core.plan.TablePlan;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.Introspector;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.PreflightRequest;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.ServerInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.StreamDirection;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code tandem plan}: connects to both endpoints of a valid manifest, runs every preflight check on each (a problem
 * on the source does not stop the target's checks), resolves the scope against the source, and says what a run
 * would do. Changes nothing anywhere.
 */
public final class Planner {
    private final ConnectorRegistry registry;

    public Planner(ConnectorRegistry registry) {
        this.registry = registry;
    }

    public PlanReport plan(Manifest m) {
        return plan(m, false);
    }

    /**
     * @param resuming the migration ran before (a rerun with --prev-run): target tables it created exist and may hold
     *                 rows, which is then expected rather than a problem
     */
    public PlanReport plan(Manifest m, boolean resuming) {
        Side source = new Side(Role.SOURCE, m.source());
        List<TableInfo> tables = new ArrayList<>();
        List<TableRef> missingKey = new ArrayList<>();
        source.run(c -> {
            var introspector = source.connector.introspector();
            String defaultSchema = introspector.defaultSchema(c);
            ScopeResolver.Resolution scope = ScopeResolver.resolve(m.scope(), introspector.listTables(c), defaultSchema,
                    introspector.listsOnlyPrivilegedTables());
            for (Finding f : scope.findings()) {
                source.findings.add(explained(f, introspector, c, defaultSchema));
            }
            for (TableRef ref : scope.tables()) {
                Optional<TableInfo> info = introspector.describe(c, ref);
                if (info.isEmpty()) {
                    source.findings.add(Finding.error("table_exists", ref.qualified(), "table " + ref.qualified()
                            + " disappeared while planning", "run plan again"));
                    continue;
                }
                tables.add(info.get());
                if (info.get().chunkKey().isEmpty()) {
                    missingKey.add(ref);
                }
                source.findings.add(keyFinding(info.get()));
            }
            source.findings.addAll(overridesOutsideScope(m, tables));
            source.findings.addAll(source.connector.preflight().check(c,
                    new PreflightRequest(Role.SOURCE, m, tables, Map.of(), resuming)));
            source.connector.changeLog().ifPresent(log -> {
                try {
                    source.position = log.currentPosition(c);
                } catch (SQLException e) {
                    source.findings.add(Finding.warning("change_log_position", "source", "cannot read the change "
                            + "log position: " + m.source().scrub(e.getMessage()), "see the change stream checks"));
                }
            });
        });

        Map<TableRef, TableRef> mapping = new LinkedHashMap<>();
        tables.forEach(t -> mapping.put(t.ref(), t.ref()));
        Side target = new Side(Role.TARGET, m.target());
        target.run(c -> target.findings.addAll(target.connector.preflight().check(c,
                new PreflightRequest(Role.TARGET, m, tables, mapping, resuming))));

        for (Built.Gap gap : Built.gaps(m, source.connector, target.connector)) {
            (gap.role() == Role.SOURCE ? source : target).findings.add(gap.finding());
        }
        List<TablePlan> tablePlans = new ArrayList<>();
        for (TableInfo t : tables) {
            tablePlans.add(tablePlan(t, m, targetAction(t, target.findings, m, missingKey)));
        }
        EndpointReport src = source.report();
        EndpointReport tgt = target.report();
        boolean ok = !src.hasErrors() && !tgt.hasErrors();
        return new PlanReport(m.id(), ok, src, tgt, tablePlans, steps(m, tables, source.connector));
    }

    /** A table named in scope and not found, where the source can say why (a partition): said so. */
    private static Finding explained(Finding f, Introspector in, Connection c, String schema)
            throws SQLException {
        if (!f.isError() || !"table_exists".equals(f.check()) || !f.message().endsWith(" not found on source")) {
            return f;
        }
        TableRef ref = TableRef.parse(f.subject(), schema);
        Optional<String> why = in.whyNotListed(c, ref);
        if (why.isEmpty()) {
            return f;
        }
        return Finding.error(f.check(), f.subject(), f.message().substring(0, f.message().length()
                - " not found on source".length()) + " " + why.get(), "leave it out of scope.tables: this version "
                + "migrates neither partitioned tables nor their partitions");
    }

    /**
     * A conflict override for a table the scope does not move would never be used; most likely the name is wrong
     * (written without its schema where two schemas hold it, or misspelt).
     */
    private static List<Finding> overridesOutsideScope(Manifest m, List<TableInfo> tables) {
        List<Finding> out = new ArrayList<>();
        var overrides = m.conflictResolution().overrides();
        for (int i = 0; i < overrides.size(); i++) {
            String name = overrides.get(i).table();
            boolean moved = tables.stream().anyMatch(t -> t.ref().qualified().equals(name)
                    || t.ref().name().equals(name));
            if (name != null && !moved) {
                String path = "conflict_resolution.overrides[" + i + "].table";
                out.add(Finding.error("scope", path, path + ": '" + name + "' is not a table this migration moves, "
                        + "so the override would never be used", "name one of the tables in scope ("
                        + tables.stream().limit(5).map(t -> t.ref().qualified()).reduce((a, b) -> a + ", " + b)
                        .orElse("none") + (tables.size() > 5 ? ", ..." : "") + "), or remove the override"));
            }
        }
        return out;
    }

    /** Whether the table has a key to copy it in chunks and match changes to rows. */
    private static Finding keyFinding(TableInfo t) {
        String name = t.ref().qualified();
        Optional<KeyInfo> key = t.chunkKey();
        if (key.isEmpty()) {
            return Finding.error("primary_key", name, "table " + name + " has no primary key and no unique key on "
                    + "NOT NULL columns, so its rows cannot be copied in chunks or matched to changes",
                    "add one (ALTER TABLE " + name + " ADD PRIMARY KEY (...)), or leave the table out with "
                            + "scope.exclude: [" + name + "]");
        }
        return Finding.ok("primary_key", name, (key.get().primary() ? "primary key ("
                : "unique key " + key.get().name() + " (") + String.join(", ", key.get().columns()) + ")");
    }

    private static TablePlan tablePlan(TableInfo t, Manifest m, String targetAction) {
        Optional<KeyInfo> key = t.chunkKey();
        long chunks = t.estimatedRows() <= 0 ? 1
                : (t.estimatedRows() + m.data().chunkRows() - 1) / m.data().chunkRows();
        return new TablePlan(t.ref().qualified(), t.estimatedRows(), t.estimatedBytes(),
                key.map(KeyInfo::columns).orElse(List.of()),
                key.map(k -> k.primary() ? "primary key" : "unique key " + k.name()).orElse("none"),
                m.data().moves() ? chunks : 0, targetAction);
    }

    private static String targetAction(TableInfo t, List<Finding> targetFindings, Manifest m, List<TableRef> missingKey) {
        String name = t.ref().qualified();
        if (missingKey.contains(t.ref())
                || targetFindings.stream().anyMatch(f -> f.isError() && name.equals(f.subject()))) {
            return "blocked";
        }
        if (m.schema() == SchemaMode.EXISTING) {
            return "validate existing";
        }
        boolean exists = targetFindings.stream().anyMatch(f -> name.equals(f.subject())
                && "target_table_empty".equals(f.check()));
        return exists ? "use existing (empty)" : "create";
    }

    private static List<String> steps(Manifest m, List<TableInfo> tables, Connector source) {
        List<String> steps = new ArrayList<>();
        Cdc cdc = m.cdc();
        Cdc.Method method = cdc.method();
        if (method == Cdc.Method.AUTO) {
            method = Engine.of(source == null ? null : source.name()).map(Engine::logMethod).orElse(Cdc.Method.AUTO);
        }
        switch (method) {
            case LOGICAL_REPLICATION -> steps.add("Open the change log before copying anything: create "
                    + "publication and logical replication slot " + Streams.name(m.id(), StreamDirection.FORWARD)
                    + " (pgoutput), record P0");
            case BINLOG -> steps.add("Record the binlog position P0 before copying anything");
            case TIMESTAMP_COLUMN -> steps.add("Record the newest " + cdc.timestampColumn() + " of each table before "
                    + "copying; poll it every " + cdc.pollInterval().toSeconds() + "s re-reading an overlap window of "
                    + cdc.overlapWindow().toSeconds() + "s; find deletes by comparing keys every "
                    + cdc.pollInterval().multipliedBy(10).toSeconds() + "s");
            case NONE -> steps.add("No change capture (type full): writes made on the source during the copy will not "
                    + "reach the target");
            default -> steps.add("Open the source's change log before copying anything");
        }
        long rows = tables.stream().mapToLong(t -> Math.max(0, t.estimatedRows())).sum();
        long bytes = tables.stream().mapToLong(TableInfo::estimatedBytes).sum();
        boolean keysAfter = !cdc.enabled() && m.data().replace() == DataMovement.Replace.REPLACE;
        steps.add(m.schema() == SchemaMode.CREATE
                ? "Create " + tables.size() + " tables on the target from the source's definitions; "
                        + (keysAfter ? "primary keys, " : "") + "secondary indexes and foreign keys after the data, "
                        + "then sequences set to the source's values"
                : "Check that the " + tables.size() + " existing target tables are compatible");
        DataMovement d = m.data();
        if (d.moves()) {
            steps.add(String.format(Locale.ROOT, "Copy about %,d rows (%s) in chunks of %,d rows with %d workers "
                            + "(data.type %s, replace %s%s)", rows, Sizes.bytes(bytes), d.chunkRows(), d.parallelism(),
                    Enums.wire(d.type()), Enums.wire(d.replace()),
                    d.rowsPerSecond() > 0 ? ", at most " + d.rowsPerSecond() + " rows/s" : ""));
        } else {
            steps.add("Copy no existing rows (data: none)");
        }
        if (cdc.enabled()) {
            steps.add("Apply changes from P0 on"
                    + (d.moves() ? ", during and after the copy," : " onto the target's existing rows,") + " until "
                    + (m.continuous().stopWhen() == dev.tandem.core.manifest.Continuous.StopWhen.IN_SYNC
                    ? "source and target are in sync" : "stopped (continuous, stop_when: manual)")
                    + "; conflicts: " + Enums.wire(m.conflictResolution().defaultStrategy())
                    + "; schema changes on the source: " + Enums.wire(m.cdc().onSchemaChange()));
        }
        if (m.validation().mode() != dev.tandem.core.manifest.Validation.Mode.NONE && m.validation().continuous()
                && cdc.enabled()) {
            steps.add("Verify continuously while streaming: every applied row again shortly after its apply, full "
                    + "checksum passes at up to " + m.validation().rowsPerSecond() + " rows/s"
                    + (m.validation().repair() ? ", drift repaired from the source" : "") + thresholds(m));
        } else {
            steps.add("Verify on demand: tandem verify -f MANIFEST" + thresholds(m));
        }
        if (!m.phases().includes("cutover")) {
            steps.add("No cutover: phases " + m.phases().wire() + " leave it out, so the migration copies"
                    + (cdc.enabled() ? " and streams until tandem stop" : " and ends"));
            return steps;
        }
        steps.add("Shift traffic through tandem-router (PATCH the strategy step by step): " + describe(m.strategy())
                + (m.phases().includes("shadow") ? "" : "; no shadow phase (phases leave it out)"));
        Engine from = m.source() == null ? null : Engine.ofUrl(m.source().url()).orElse(null);
        Engine to = m.target() == null ? null : Engine.ofUrl(m.target().url()).orElse(null);
        boolean notYet = from != null && from.mysqlFamily() && from != to && to != Engine.POSTGRESQL;
        steps.add((notYet ? NOT_YET : "") + "Cut over (tandem cutover): freeze writes at the routers, wait for lag 0, "
                + "verify the rows applied "
                + "since the last comparison, set sequences, open the reverse stream, flip routing to the target; a "
                + "failing step puts routing back on the source. Then tandem cleanup, or tandem rollback");
        return steps;
    }

    static String thresholds(Manifest m) {
        var t = m.abortThresholds();
        List<String> parts = new ArrayList<>();
        if (t.driftRows() != null) {
            parts.add("drift_rows > " + t.driftRows());
        }
        if (t.lagSeconds() != null) {
            double lag = t.lagSeconds();
            parts.add("lag_seconds > " + (lag == Math.rint(lag) ? Long.toString((long) lag) : Double.toString(lag)));
        }
        if (t.errorRate() != null) {
            parts.add("error_rate > " + t.errorRate());
        }
        if (t.shadowMismatchRate() != null) {
            parts.add("shadow_mismatch_rate > " + t.shadowMismatchRate() + " (the routers' shadow reads)");
        }
        return parts.isEmpty() ? "" : "; abort if " + String.join(" or ", parts);
    }

    /** Marks a step this version of tandem migrate does not perform yet, so the plan never promises it. */
    static final String NOT_YET = "[not built yet] ";

    static String describe(Strategy s) {
        if (s instanceof Strategy.Canary c) {
            return String.format(Locale.ROOT, "canary, %.1f%% of reads to the target%s", c.readPercentage() * 100,
                    writes(c.writeMode()));
        } else if (s instanceof Strategy.BlueGreen g) {
            return "blue_green, active side: " + (g.activeIsNew() ? "green (new)" : "blue (old)");
        } else if (s instanceof Strategy.RollingUpdate r) {
            return "rolling_update, " + r.migratedInstances().size() + " of " + r.totalInstances()
                    + " instances on the target" + writes(r.writeMode());
        } else if (s instanceof Strategy.ShadowTraffic) {
            return "shadow_traffic, reads repeated on the target and compared";
        } else if (s instanceof Strategy.StranglerFig f) {
            return "strangler_fig, features on the target: " + on(f.features()) + writes(f.writeMode());
        } else if (s instanceof Strategy.FeatureFlag f) {
            return String.format(Locale.ROOT, "feature_flag, flags %s for %.1f%% of users%s", on(f.flags()),
                    f.rolloutPercentage() * 100, writes(f.writeMode()));
        } else if (s instanceof Strategy.Geographic g) {
            return "geographic, regions on the target: " + on(g.regions()) + writes(g.writeMode());
        } else if (s instanceof Strategy.TimeWindow w) {
            return "time_window, cut over between " + w.windowStart() + " and " + w.windowEnd();
        }
        return "big_bang, all traffic at once";
    }

    private static String writes(WriteMode w) {
        if (w == null || w.mode() == null) {
            return "";
        }
        // the router keeps one authoritative side (RoutingPolicy): the stream carries writes to the other
        return w.mode() == WriteMode.Mode.DUAL_WRITE
                ? "; dual_write: writes on the source until the cutover, the change stream copies them to the target"
                : "; cutover write mode: writes move to the target at the cutover";
    }

    private static String on(Map<String, Boolean> m) {
        List<String> on = m.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).sorted().toList();
        return on.isEmpty() ? "none yet" : String.join(", ", on);
    }

    @FunctionalInterface
    private interface ConnectionWork {
        void run(Connection c) throws SQLException;
    }

    /** One endpoint being checked: its connector, its findings, and what was learnt. */
    private final class Side {
        final Role role;
        final Endpoint endpoint;
        final List<Finding> findings = new ArrayList<>();
        Connector connector;
        ServerInfo server;
        String position;

        Side(Role role, Endpoint endpoint) {
            this.role = role;
            this.endpoint = endpoint;
        }

        void run(ConnectionWork work) {
            String side = role.wire();
            try {
                connector = registry.select(endpoint, side);
                try (Connection c = connector.connect()) {
                    server = connector.serverInfo(c);
                    findings.add(Finding.ok("connect", side, "connected to " + server
                            + (endpoint.user() == null ? "" : " as " + endpoint.user())));
                    work.run(c);
                }
            } catch (SQLException e) {
                findings.add(connectionFailure(side, endpoint, e));
            }
        }

        EndpointReport report() {
            return new EndpointReport(role.wire(), endpoint.displayUrl(), connector == null ? null : connector.name(),
                    server == null ? null : server.toString(), position, List.copyOf(findings));
        }
    }

    /** A failed connection, said the way an operator can fix it. */
    static Finding connectionFailure(String side, Endpoint endpoint, SQLException e) {
        String msg = endpoint.scrub(e.getMessage());
        return switch (SqlErrors.classify(e)) {
            case AUTHENTICATION -> Finding.error("credentials", side, "the server refused the credentials of user '"
                    + endpoint.user() + "': " + msg, "check " + side + ".user and " + side + ".password");
            case UNDEFINED_OBJECT -> Finding.error("connect", side, msg, "check the database name in " + side
                    + ".url, or create the database");
            case PRIVILEGE -> Finding.error("connect", side, msg, "grant the user the right to connect (GRANT CONNECT "
                    + "ON DATABASE ... TO " + endpoint.user() + ")");
            default -> Finding.error("connect", side, "cannot connect to " + endpoint.displayUrl() + ": " + msg,
                    "check the host and port in " + side + ".url, that the server runs, and that it accepts "
                            + "connections from this host (pg_hba.conf, bind-address, firewall)");
        };
    }
}
