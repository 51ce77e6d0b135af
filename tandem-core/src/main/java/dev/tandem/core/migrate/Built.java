package dev.tandem.core.migrate;

import dev.tandem.core.manifest.AlertCondition;
import dev.tandem.core.manifest.Alerting;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.Enums;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.manifest.Validation;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.Role;
import java.util.ArrayList;
import java.util.List;

/**
 * What this version of Tandem builds, the one answer {@code tandem plan}, {@code POST /migrations/{id}/test} and
 * {@code tandem migrate} share (DESIGN.md: every manifest key works end to end or is refused by all three alike).
 * A manifest the reader accepted may still ask for something no code here performs — a data type, a change capture
 * method, a conflict strategy — or for something the endpoints' connectors cannot do (a connector's capabilities are
 * its {@code Optional}s, {@link Connector}); each such gap is an error finding on the side it concerns, with the
 * manifest path as its subject, what is missing, and what to write instead. {@link Planner} adds them to its report,
 * so {@code plan} is never Ready for a run {@code migrate} refuses; {@link Admission} refuses with them before
 * anything is registered.
 */
final class Built {
    /** The check name of every finding made here. */
    static final String CHECK = PlanReport.NOT_BUILT;

    /** One thing asked for that is not built, and the side it concerns. */
    record Gap(Role role, Finding finding) {
        String line() {
            return finding.message() + "; fix: " + finding.fix();
        }
    }

    private Built() {
    }

    /**
     * @param source the source's connector, or null when none could be chosen (the plan reports why)
     * @param target the target's connector, or null likewise
     */
    static List<Gap> gaps(Manifest m, Connector source, Connector target) {
        List<Gap> out = new ArrayList<>();
        manifestOnly(m, out);
        if (source != null) {
            sourceSide(m, source, target, out);
        }
        if (target != null) {
            targetSide(m, source, target, out);
        }
        if (source != null && target != null) {
            columnTypes(m, Engine.of(source.name()).orElse(null), Engine.of(target.name()).orElse(null), out);
        }
        return out;
    }

    /**
     * {@code schema.zero_dates} and {@code schema.columns} are choices of the MySQL / MariaDB → PostgreSQL type
     * mapping: between other engines they would change nothing, so they are refused there rather than ignored. A
     * MySQL-family target keeps zero dates as they are; PostgreSQL has none to keep.
     */
    private static void columnTypes(Manifest m, Engine source, Engine target, List<Gap> out) {
        ColumnTypes t = m.types();
        boolean mysqlToPostgres = source != null && source.mysqlFamily() && target == Engine.POSTGRESQL;
        if (!t.columns().isEmpty() && !mysqlToPostgres) {
            gap(out, Role.TARGET, "schema.columns", "chooses PostgreSQL types for MySQL/MariaDB columns, but this "
                    + "migration goes from " + wire(source) + " to " + wire(target) + ", where columns keep the "
                    + "source's types", "leave schema.columns out");
        }
        if (t.zeroDates() == null) {
            return;
        }
        String value = "'" + Enums.wire(t.zeroDates()) + "'";
        if (source == null || !source.mysqlFamily()) {
            gap(out, Role.SOURCE, "schema.zero_dates", value + " says what MySQL/MariaDB zero dates become, and a "
                    + (source == null ? "" : source.wire() + " ") + "source has none", "leave schema.zero_dates out");
        } else if (target != null && target.mysqlFamily() && t.zeroDates() != ColumnTypes.ZeroDates.KEEP) {
            gap(out, Role.TARGET, "schema.zero_dates", value + " is not built for a " + target.wire() + " target, "
                    + "which keeps zero dates as the source has them", "leave schema.zero_dates out (or write keep)");
        } else if (target == Engine.POSTGRESQL && t.zeroDates() == ColumnTypes.ZeroDates.KEEP) {
            gap(out, Role.TARGET, "schema.zero_dates", "'keep' cannot be done: PostgreSQL has no zero date",
                    "write as_null (a zero date is written as NULL) or refuse (the default: the copy or the stream "
                            + "stops, naming the column)");
        }
    }

    private static void manifestOnly(Manifest m, List<Gap> out) {
        if (m.data().type() == DataMovement.Type.SNAPSHOT) {
            gap(out, Role.SOURCE, "data.type", "'snapshot' (every table copied from one consistent snapshot of the "
                    + "source) is not built yet", "use data.type: scan (each chunk is read consistently, and the change "
                    + "stream brings every table to the same state)");
        }
        ConflictResolution cr = m.conflictResolution();
        if (m.cdc().enabled()) {
            conflict(out, "conflict_resolution.default", cr.defaultStrategy());
            for (int i = 0; i < cr.overrides().size(); i++) {
                conflict(out, "conflict_resolution.overrides[" + i + "].strategy", cr.overrides().get(i).strategy());
            }
        }
        Validation.Mode mode = m.validation().mode();
        if (mode == Validation.Mode.COUNT || mode == Validation.Mode.ROW_DIFF) {
            gap(out, Role.TARGET, "validation.mode", "'" + Enums.wire(mode) + "' is not built yet: verification "
                    + "compares every row by checksums computed in both databases (checksum), or is off (none)",
                    "use validation.mode: checksum (rows that differ are then listed by key with tandem verify "
                            + "--repair or GET /drift), or none");
        }
        List<Alerting.Rule> rules = m.alerting().rules();
        for (int i = 0; i < rules.size(); i++) {
            AlertCondition c = rules.get(i).condition();
            if (c != null && c.metrics().contains("conflicts_pending")) {
                gap(out, Role.TARGET, "alerting.rules[" + i + "].condition", "'" + c + "' reads conflicts_pending, "
                        + "the manual conflict queue, which is not built yet (it would always read 0)",
                        "leave the rule out; conflicts before the cutover are settled by source_wins or newest_wins");
            }
        }
    }

    private static void conflict(List<Gap> out, String path, ConflictResolution.Strategy st) {
        if (st == ConflictResolution.Strategy.SOURCE_WINS || st == ConflictResolution.Strategy.NEWEST_WINS) {
            return;
        }
        gap(out, Role.TARGET, path, "'" + Enums.wire(st) + "' decides between writes made on both sides, which "
                + "only happen with dual writes to both databases; that (and " + Enums.wire(st) + ") is not built "
                + "yet: before the cutover every write goes to the source", "use source_wins, or newest_wins with "
                + "its timestamp_column");
    }

    private static void sourceSide(Manifest m, Connector source, Connector target, List<Gap> out) {
        String engine = source.name();
        if (m.data().moves() && (source.chunkReader().isEmpty() || source.keySampler().isEmpty())) {
            gap(out, Role.SOURCE, "data", "copying rows out of " + engine + " is not built yet", "set data: none "
                    + "(only changes are moved, onto rows the target already has), or migrate from PostgreSQL");
        }
        Cdc.Method method = m.cdc().method();
        boolean logBased = method == Cdc.Method.AUTO || method == Cdc.Method.LOGICAL_REPLICATION
                || method == Cdc.Method.BINLOG;
        if (m.cdc().enabled() && logBased && (source.changeCapture().isEmpty() || source.changeLog().isEmpty())) {
            gap(out, Role.SOURCE, "cdc.method", "'" + Enums.wire(method) + "' streams the source's change log, but "
                    + "streaming changes out of " + engine + " is not built yet", "set cdc: {method: "
                    + "timestamp_column, timestamp_column: updated_at}, or cdc: {method: none} to copy without "
                    + "change capture");
        }
        if (target != null && m.schema() == SchemaMode.CREATE
                && source.schemaCopier(target.name()).isEmpty()) {
            gap(out, Role.TARGET, "schema", "'create' cannot create " + engine + " tables on " + target.name()
                    + " yet", "create the target tables yourself and set schema: existing");
        }
    }

    private static void targetSide(Manifest m, Connector source, Connector target, List<Gap> out) {
        String engine = target.name();
        if (m.data().moves() && target.chunkWriter().isEmpty()) {
            gap(out, Role.TARGET, "target", "loading rows into " + engine + " is not built yet", "migrate into "
                    + "PostgreSQL (tandem verify compares " + engine + " with another database already)");
        } else if (m.cdc().enabled() && target.changeApplier().isEmpty()) {
            gap(out, Role.TARGET, "target", "applying changes to " + engine + " is not built yet",
                    "migrate into PostgreSQL, or set cdc: {method: none}");
        } else if (m.cdc().enabled() && m.cdc().apply() == Cdc.Apply.SOURCE_TRANSACTIONS
                && target.changeApplier().flatMap(a -> a.appliedPositions()).isEmpty()) {
            gap(out, Role.TARGET, "cdc.apply", "'source_transactions' records on the target, in each applied "
                    + "transaction, how far the stream got; applying to " + engine + " cannot record that yet",
                    "use cdc.apply: group_commit");
        } else if (source != null && mysqlFamily(engine) && !mysqlFamily(source.name())
                && (m.data().moves() || m.cdc().enabled())) {
            gap(out, Role.TARGET, "target", "moving " + source.name() + " rows into " + engine + " needs the reverse "
                    + "type mapping (" + source.name() + " to MySQL), which is not built yet", "migrate between "
                    + "MySQL/MariaDB servers, or from MySQL/MariaDB into PostgreSQL");
        }
    }

    private static String wire(Engine e) {
        return e == null ? "an engine without a type mapping" : e.wire();
    }

    private static boolean mysqlFamily(String connector) {
        return Engine.of(connector).map(Engine::mysqlFamily).orElse(false);
    }

    private static void gap(List<Gap> out, Role role, String path, String what, String fix) {
        out.add(new Gap(role, Finding.error(CHECK, path, path + ": " + what, fix)));
    }
}
