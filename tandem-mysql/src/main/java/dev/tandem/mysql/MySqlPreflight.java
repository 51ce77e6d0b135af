package dev.tandem.mysql;

import dev.tandem.core.cdc.TimestampColumnCapture;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.DidYouMean;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.MigrationType;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.Preflight;
import dev.tandem.core.spi.PreflightRequest;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.types.TypeMapping;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a MySQL or MariaDB endpoint needs. As a source: SELECT on the tables, and for binlog capture log_bin on,
 * binlog_format ROW, binlog_row_image FULL, a server_id, and REPLICATION SLAVE plus REPLICATION CLIENT (MariaDB:
 * BINLOG MONITOR); into PostgreSQL, no value in the rows PostgreSQL cannot take ({@link MySqlProfile}). As a
 * target: CREATE, or the tables with INSERT, UPDATE, DELETE and SELECT.
 */
final class MySqlPreflight implements Preflight {
    private final Flavor flavor;
    private final MySqlIntrospector introspector;

    MySqlPreflight(Flavor flavor, MySqlIntrospector introspector) {
        this.flavor = flavor;
        this.introspector = introspector;
    }

    @Override
    public List<Finding> check(Connection c, PreflightRequest request) throws SQLException {
        List<Finding> out = new ArrayList<>();
        String side = request.role().wire();
        String db = introspector.defaultSchema(c);
        if (db.isEmpty()) {
            out.add(Finding.error("database", side, side + ".url names no database",
                    "add the database to the URL: jdbc:" + flavor.connectorName + "://host:3306/DATABASE"));
            return out;
        }
        Privileges privileges = Privileges.read(c);
        if (request.role() == Role.SOURCE) {
            source(c, request, privileges, out);
        } else {
            target(c, request, privileges, db, out);
        }
        return out;
    }

    private void source(Connection c, PreflightRequest request, Privileges privileges, List<Finding> out)
            throws SQLException {
        Manifest m = request.manifest();
        List<TableRef> noSelect = request.sourceTables().stream().map(TableInfo::ref)
                .filter(t -> !privileges.hasOnTable("SELECT", t.schema(), t.name())).toList();
        if (noSelect.isEmpty()) {
            out.add(Finding.ok("select_privilege", "source", "user " + privileges.account()
                    + " may read every table in scope"));
        } else {
            out.add(Finding.error("select_privilege", "source", "user " + privileges.account() + " cannot read "
                    + noSelect.stream().map(TableRef::qualified).collect(Collectors.joining(", "))
                    + rolesNote(), "GRANT SELECT ON " + noSelect.get(0).schema() + ".* TO " + privileges.account()
                    + ";"));
        }
        boolean toPostgres = m.target() != null && Engine.ofUrl(m.target().url()).orElse(null) == Engine.POSTGRESQL;
        if (toPostgres) {
            chosenColumns(m.types(), request.sourceTables(), out);
        }
        if (m.schema() == SchemaMode.CREATE && toPostgres) {
            for (TableInfo t : request.sourceTables()) {
                mapping(t, m.types(), out);
            }
        }
        if (toPostgres && m.data().moves()) {
            MySqlProfile.profile(c, flavor, request.sourceTables(), m.types(), out);
        }
        if (m.cdc().method() == Cdc.Method.TIMESTAMP_COLUMN) {
            for (TableInfo t : request.sourceTables()) {
                TimestampColumnCapture.whyNotPollable(m.cdc().timestampColumn(), t).ifPresent(why -> out.add(
                        Finding.error("timestamp_column", t.ref().qualified(), why, "add a timestamp column set on "
                                + "every write (or name another), exclude the table, or use cdc.method: binlog")));
            }
        }
        boolean binlog = m.type() == MigrationType.INCREMENTAL
                && (m.cdc().method() == Cdc.Method.AUTO || m.cdc().method() == Cdc.Method.BINLOG);
        if (!binlog) {
            return;
        }
        String logBin = variable(c, "log_bin");
        if ("ON".equalsIgnoreCase(logBin) || "1".equals(logBin)) {
            out.add(Finding.ok("log_bin", "source", "the binary log is on"));
        } else {
            out.add(Finding.error("log_bin", "source", "the binary log is off (log_bin = " + logBin + ")",
                    "enable it: log_bin = mysql-bin and server_id = 1 under [mysqld] in my.cnf, then restart the server"));
        }
        setting(c, out, "binlog_format", "ROW", "binlog_format must be ROW");
        setting(c, out, "binlog_row_image", "FULL", "binlog_row_image must be FULL");
        retention(c, out);
        BinlogChangeCapture.tlsAskedFor(m.source()).ifPresent(tls -> out.add(Finding.error("binlog_tls", "source",
                "source: " + tls + " asks for TLS, which the binary log stream does not use yet (it would read the "
                        + "log in plain text)", "set cdc: {method: none} or timestamp_column polling, or reach the "
                        + "source without TLS over a trusted network")));
        cascades(c, request, out);
        String serverId = variable(c, "server_id");
        if ("0".equals(serverId)) {
            out.add(Finding.error("server_id", "source", "server_id is 0, so no replica may connect",
                    "set server_id = 1 (any non-zero id) under [mysqld] in my.cnf and restart"));
        }
        List<String> missing = new ArrayList<>();
        if (!privileges.hasGlobal("REPLICATION SLAVE")) {
            missing.add("REPLICATION SLAVE");
        }
        if (!privileges.hasGlobal("REPLICATION CLIENT")) {
            missing.add(flavor == Flavor.MARIADB ? "BINLOG MONITOR" : "REPLICATION CLIENT");
        }
        if (missing.isEmpty()) {
            out.add(Finding.ok("replication_privilege", "source", "user " + privileges.account()
                    + " may read the binary log"));
        } else {
            out.add(Finding.error("replication_privilege", "source", "user " + privileges.account() + " lacks "
                    + String.join(" and ", missing) + " to read the binary log" + rolesNote(), "GRANT "
                    + String.join(", ", missing) + " ON *.* TO " + privileges.account() + ";"));
        }
    }

    /**
     * Rows InnoDB changes for a foreign key's ON DELETE / ON UPDATE CASCADE, SET NULL or SET DEFAULT are not written
     * to the binary log (a replica replays them with its own foreign keys; Tandem applies with foreign-key checks
     * off, as rows arrive in any order): the stream would never see them and the target would keep the old rows,
     * with verification the only witness. Measured: 80 of 1,042 child rows differed after a stream of parent-key
     * updates. A table in scope that is the child of such a key is refused until the target can replay them.
     */
    private static void cascades(Connection c, PreflightRequest request, List<Finding> out) throws SQLException {
        for (TableInfo t : request.sourceTables()) {
            // from SHOW CREATE TABLE: information_schema.REFERENTIAL_CONSTRAINTS hides them from a user with SELECT
            for (Map.Entry<String, String[]> fk : MySqlIntrospector.foreignKeyRules(c, t.ref()).entrySet()) {
                String onDelete = fk.getValue()[0] == null ? "RESTRICT" : fk.getValue()[0];
                String onUpdate = fk.getValue()[1] == null ? "RESTRICT" : fk.getValue()[1];
                if (Set.of("RESTRICT", "NO ACTION").containsAll(List.of(onDelete, onUpdate))) {
                    continue;
                }
                String child = t.ref().qualified();
                out.add(Finding.error("binlog_cascade", child, "foreign key " + fk.getKey() + " of " + child
                        + " has ON UPDATE " + onUpdate + " ON DELETE " + onDelete + ": the rows InnoDB changes for it "
                        + "are not written to the binary log, so the stream would miss them and the target keep the "
                        + "old rows", "make the key RESTRICT on the source and do the cascade in the application "
                        + "(ALTER TABLE " + quote(t.ref().name()) + " DROP FOREIGN KEY " + quote(fk.getKey())
                        + ", ADD CONSTRAINT " + quote(fk.getKey()) + " FOREIGN KEY ... REFERENCES ... ON UPDATE "
                        + "RESTRICT ON DELETE RESTRICT;), or leave " + child + " out (scope.exclude)"));
            }
        }
    }

    /**
     * How {@code schema: create} makes each column on PostgreSQL ({@link TypeMapping#MYSQL_TO_POSTGRESQL}, or the type
     * {@code schema.columns} chose among the rule's): one line per table naming each column's type on both sides; a
     * type no rule maps, one a rule refuses, a choice the rule does not offer, and a generated column (whose MySQL
     * expression is not translated) are errors; a mapping that may change or refuse values is a warning naming what
     * to check. Under {@code schema.zero_dates: as_null} a NOT NULL date column is made without NOT NULL.
     */
    private static void mapping(TableInfo t, ColumnTypes types, List<Finding> out) {
        String name = t.ref().qualified();
        List<String> line = new ArrayList<>();
        for (ColumnInfo col : t.columns()) {
            if (col.generated()) {
                out.add(Finding.error("column_type", name, "column " + col.name() + " is generated; schema: create "
                        + "does not translate its MySQL expression to PostgreSQL", "create " + name + " on the target "
                        + "yourself (the column generated in PostgreSQL) and set schema: existing, or leave the table "
                        + "out (scope.exclude)"));
                continue;
            }
            Optional<ColumnTypes.Column> chosen = types.column(t.ref().schema(), t.ref().name(), col.name());
            TypeMapping.Mapped mapped = TypeMapping.MYSQL_TO_POSTGRESQL.map(col.nativeType(),
                    chosen.map(ColumnTypes.Column::type).orElse(null));
            if (!mapped.mapped()) {
                out.add(Finding.error("column_type", name, "column " + col.name() + " is " + col.nativeType()
                        + (mapped.chosen() ? ", and schema.columns chose " + chosen.get().type() + " for it"
                        : ", which has no PostgreSQL type here"), mapped.note()));
                continue;
            }
            line.add(col.name() + " " + col.nativeType() + " → " + mapped.target() + (mapped.chosen() ? " (chosen)"
                    : ""));
            if (!mapped.note().isEmpty()) {
                out.add(Finding.warning("type_mapping", name, "column " + col.name() + ": " + col.nativeType()
                        + " becomes " + mapped.target() + "; " + mapped.note(), "check the column's values before "
                        + "the copy; a value PostgreSQL cannot take fails its chunk, naming the column"
                        + (mapped.choices().size() > 1 ? ", or choose another type for it in schema.columns ("
                        + String.join(", ", mapped.choices().subList(1, mapped.choices().size())) + ")" : "")));
            }
            if (types.zeroDatesOrRefuse() == ColumnTypes.ZeroDates.AS_NULL && !col.nullable()
                    && MySqlToPostgresSchema.dated(col)) {
                out.add(Finding.warning("type_mapping", name, "column " + col.name() + " is NOT NULL on the source "
                        + "but is made without NOT NULL: schema.zero_dates: as_null writes its zero dates as NULL",
                        "after the cutover, once no zero date is left: ALTER TABLE " + name + " ALTER COLUMN "
                                + col.name() + " SET NOT NULL;"));
            }
        }
        if (!line.isEmpty()) {
            out.add(Finding.ok("type_mapping", name, String.join(", ", line)));
        }
    }

    /**
     * Each {@code schema.columns} entry must name a column of a table in scope: one that names none would change
     * nothing, silently.
     */
    private static void chosenColumns(ColumnTypes types, List<TableInfo> tables, List<Finding> out) {
        for (int i = 0; i < types.columns().size(); i++) {
            ColumnTypes.Column c = types.columns().get(i);
            boolean found = tables.stream().anyMatch(t -> (c.table().equals(t.ref().name())
                    || c.table().equals(t.ref().qualified())) && t.column(c.column()).isPresent());
            if (found) {
                continue;
            }
            List<String> known = new ArrayList<>();
            tables.forEach(t -> t.columns().forEach(col -> known.add(t.ref().qualified() + "." + col.name())));
            String path = "schema.columns[" + i + "]";
            out.add(Finding.error("column_type", path, path + ": '" + c.table() + "." + c.column() + "' names no "
                    + "column of a table in scope", DidYouMean.closest(c.table() + "." + c.column(), known)
                    .map(k -> "did you mean " + k + "?").orElse("name a table in scope (schema.table or table) and "
                            + "one of its columns, or remove the entry")));
        }
    }

    /**
     * How long the server keeps binlog files: the stream keeps nothing on the source, so a stream stopped (or a copy
     * running) longer than that finds its position purged and must start anew. Under a day is a warning.
     */
    private static void retention(Connection c, List<Finding> out) throws SQLException {
        long seconds;
        try {
            String v = variable(c, "binlog_expire_logs_seconds");
            seconds = v == null ? 0 : Long.parseLong(v);
        } catch (SQLException | NumberFormatException e) {
            String days = variable(c, "expire_logs_days"); // before MySQL 8 / MariaDB 10.6
            seconds = days == null ? 0 : (long) (Double.parseDouble(days) * 86_400);
        }
        if (seconds > 0 && seconds < 86_400) {
            out.add(Finding.warning("binlog_retention", "source", "the server purges binlog files after " + seconds
                    + " s: a copy, or a stopped stream, that takes longer loses its position and must start anew",
                    "keep them longer than the migration may pause: SET GLOBAL binlog_expire_logs_seconds = 604800;"
                            + " (and in my.cnf)"));
        } else {
            out.add(Finding.ok("binlog_retention", "source", seconds == 0 ? "binlog files are kept until purged "
                    + "by hand" : "binlog files are kept " + seconds / 3600 + " h"));
        }
    }

    private void target(Connection c, PreflightRequest request, Privileges privileges, String db, List<Finding> out)
            throws SQLException {
        Manifest m = request.manifest();
        boolean needCreate = false;
        List<String> elsewhere = request.sourceTables().stream().map(t -> t.ref().schema()).distinct()
                .filter(schema -> !db.equals(schema)).toList();
        if (!elsewhere.isEmpty()) {
            out.add(Finding.error("target_database", "target", "the source's tables are in database "
                    + String.join(", ", elsewhere) + " but target.url names database " + db + "; tables keep their "
                    + "database and name on a MySQL/MariaDB target", "name database " + elsewhere.get(0) + " in "
                    + "target.url (CREATE DATABASE " + elsewhere.get(0) + "; on the target if it does not exist)"));
            return;
        }
        if (m.cdc().enabled() && m.phases().includes("cutover")) {
            // after a cutover the rollback's reverse stream reads this server's binary log
            List<String> missing = new ArrayList<>();
            String logBin = variable(c, "log_bin");
            if (!("ON".equalsIgnoreCase(logBin) || "1".equals(logBin))) {
                missing.add("log_bin is off");
            }
            for (String[] want : new String[][] {{"binlog_format", "ROW"}, {"binlog_row_image", "FULL"}}) {
                String v = variable(c, want[0]);
                if (!want[1].equalsIgnoreCase(v)) {
                    missing.add(want[0] + " is " + v + ", not " + want[1]);
                }
            }
            if (missing.isEmpty()) {
                out.add(Finding.ok("reverse_stream", "target", "the binary log is on, ROW, FULL: a rollback can stream "
                        + "the target's writes back"));
            } else {
                out.add(Finding.warning("reverse_stream", "target", "a rollback streams the target's writes back from "
                        + "its binary log, but " + String.join(", ", missing) + ": the cutover would stop at step "
                        + "reverse", "on the target: log_bin = mysql-bin, binlog_format = ROW, binlog_row_image = FULL "
                        + "and a server_id under [mysqld], then restart; the user needs REPLICATION SLAVE there too"));
            }
        }
        if (m.data().moves()) {
            String local = variable(c, "local_infile");
            if ("1".equals(local) || "ON".equalsIgnoreCase(local)) {
                out.add(Finding.ok("local_infile", "target", "local_infile is ON: chunks load by LOAD DATA LOCAL"));
            } else {
                out.add(Finding.warning("local_infile", "target", "local_infile is OFF: chunks load by multi-row "
                        + "INSERT, several times slower than LOAD DATA LOCAL", "SET GLOBAL local_infile = 1; on the "
                        + "target (local_infile = 1 under [mysqld] to keep it)"));
            }
        }
        for (TableInfo source : request.sourceTables()) {
            TableRef t = request.targetTables().getOrDefault(source.ref(), source.ref());
            Optional<TableInfo> existing = introspector.describe(c, t);
            String name = t.qualified();
            if (existing.isEmpty()) {
                if (m.schema() == SchemaMode.EXISTING) {
                    out.add(Finding.error("target_table_missing", name, "table " + name + " does not exist on the "
                            + "target, and schema: existing does not create it", "create it, or set schema: create"));
                } else {
                    out.add(Finding.ok("target_table_absent", name, "will be created"));
                    needCreate = true;
                }
                continue;
            }
            List<String> missing = new ArrayList<>();
            for (String p : List.of("SELECT", "INSERT", "UPDATE", "DELETE")) {
                if (!privileges.hasOnTable(p, t.schema(), t.name())) {
                    missing.add(p);
                }
            }
            if (!missing.isEmpty()) {
                out.add(Finding.error("target_privilege", name, "user " + privileges.account() + " lacks "
                        + String.join(", ", missing) + " on " + name + rolesNote(), "GRANT " + String.join(", ", missing)
                        + " ON " + t.schema() + "." + t.name() + " TO " + privileges.account() + ";"));
                continue;
            }
            if (m.schema() == SchemaMode.CREATE && !request.resuming()) {
                if (hasRows(c, t)) {
                    out.add(Finding.error("target_table_not_empty", name, "table " + name + " exists on the target "
                            + "and has rows; schema: create never overwrites a table", "empty it (TRUNCATE TABLE "
                            + name + ";), drop it, or set schema: existing to load into it"));
                } else {
                    out.add(Finding.ok("target_table_empty", name, "exists and is empty; it will be loaded as it is"));
                }
            }
        }
        if (needCreate && !privileges.hasOnSchema("CREATE", db)) {
            out.add(Finding.error("create_privilege", db, "user " + privileges.account() + " may not create tables in "
                    + db + rolesNote(), "GRANT CREATE, SELECT, INSERT, UPDATE, DELETE, INDEX, ALTER ON " + db + ".* TO "
                    + privileges.account() + ";"));
        }
    }

    private static String rolesNote() {
        return " (privileges held through roles are not counted)";
    }

    private static boolean hasRows(Connection c, TableRef t) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM "
                + quote(t.schema()) + "." + quote(t.name()) + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    private static void setting(Connection c, List<Finding> out, String name, String wanted, String rule)
            throws SQLException {
        String value = variable(c, name);
        if (wanted.equalsIgnoreCase(value)) {
            out.add(Finding.ok(name, "source", name + " is " + wanted));
        } else {
            out.add(Finding.error(name, "source", rule + ", not " + (value == null ? "unset"
                    : value.toUpperCase(Locale.ROOT)), "SET GLOBAL " + name + " = '" + wanted + "'; and " + name
                    + " = " + wanted + " under [mysqld] in my.cnf so it survives a restart; sessions already open keep "
                    + "the old value until they reconnect"));
        }
    }

    private static String variable(Connection c, String name) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@GLOBAL." + name)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
