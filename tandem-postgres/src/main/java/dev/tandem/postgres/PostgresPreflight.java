package dev.tandem.postgres;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cdc.TimestampColumnCapture;
import dev.tandem.core.manifest.Cdc;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.MigrationType;
import dev.tandem.core.manifest.SchemaMode;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.Preflight;
import dev.tandem.core.spi.PreflightRequest;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.types.TypeMapping;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a PostgreSQL endpoint needs. As a source: SELECT on every table, and for logical replication wal_level =
 * logical, the REPLICATION attribute (or superuser), a free replication slot and WAL sender, CREATE on the database
 * and ownership of the tables for the publication, and a replica identity on every table (without one, the
 * application's own UPDATEs and DELETEs would fail once the table is published). As a target: CREATE where tables
 * are to be created, no rows in a table {@code schema: create} would create, privileges and a matching key on
 * existing tables, and the right to keep target triggers from firing.
 */
final class PostgresPreflight implements Preflight {
    private final PostgresIntrospector introspector;

    PostgresPreflight(PostgresIntrospector introspector) {
        this.introspector = introspector;
    }

    @Override
    public List<Finding> check(Connection c, PreflightRequest request) throws SQLException {
        List<Finding> out = new ArrayList<>();
        Role role = request.role();
        Identity me = identity(c);
        int version = intQuery(c, "SELECT current_setting('server_version_num')::int");
        if (version < 100000) {
            out.add(Finding.error("server_version", role.wire(), "PostgreSQL " + version / 10000 + " is too old",
                    "Tandem needs PostgreSQL 10 or later (logical replication with pgoutput)"));
        }
        out.add(PgTls.check(c, role == Role.SOURCE ? request.manifest().source() : request.manifest().target(),
                role.wire()));
        if (role == Role.SOURCE) {
            source(c, request, me, out);
        } else {
            target(c, request, me, version, out);
        }
        return out;
    }

    private void source(Connection c, PreflightRequest request, Identity me, List<Finding> out) throws SQLException {
        Manifest m = request.manifest();
        List<TableRef> noSelect = new ArrayList<>();
        for (TableInfo t : request.sourceTables()) {
            if (!tablePrivilege(c, t.ref(), "SELECT")) {
                noSelect.add(t.ref());
            }
        }
        if (noSelect.isEmpty()) {
            out.add(Finding.ok("select_privilege", "source", "user " + me.user + " may read every table in scope"));
        } else {
            out.add(Finding.error("select_privilege", "source", "user " + me.user + " cannot read "
                    + names(noSelect), grant("SELECT", noSelect, me.user)));
        }
        for (TableInfo t : request.sourceTables()) {
            int partitions = PostgresIntrospector.partitions(c, t.ref());
            if (partitions >= 0) {
                String name = t.ref().qualified();
                out.add(Finding.error("partitioned_table", name, "table " + name + " is partitioned (" + partitions
                        + " partitions), which this version does not migrate: schema: create does not create "
                        + "partitioned tables, and the change stream would miss the changes of its partitions (they "
                        + "are published under the partitions' names), so the target would silently fall behind",
                        "leave it out with scope.exclude: [" + name + "] (or list the other tables in scope.tables) "
                                + "and move it another way, for instance pg_dump of it and its partitions during a "
                                + "write pause"));
            }
        }
        Cdc.Method method = m.cdc().method();
        boolean logical = m.type() == MigrationType.INCREMENTAL
                && (method == Cdc.Method.AUTO || method == Cdc.Method.LOGICAL_REPLICATION);
        if (method == Cdc.Method.TIMESTAMP_COLUMN) {
            for (TableInfo t : request.sourceTables()) {
                TimestampColumnCapture.whyNotPollable(m.cdc().timestampColumn(), t).ifPresent(why -> out.add(
                        Finding.error("timestamp_column", t.ref().qualified(), why, "add a timestamp column set on "
                                + "every write (or name another), exclude the table, or use cdc.method: logical_replication")));
            }
        }
        if (logical) {
            replicationSettings(c, me, out);
            publication(c, request, me, out);
            for (List<TableRef> alike : PgChangeStream.readAlike(request.sourceTables().stream()
                    .map(TableInfo::ref).toList())) {
                String names = alike.stream().map(TableRef::qualified).collect(Collectors.joining(" and "));
                out.add(Finding.error("stream_table_names", names, "tables " + names + " read alike to the change "
                        + "stream, as " + alike.get(0).schema() + "." + alike.get(0).name() + ": it names a table by "
                        + "schema and table joined with a dot, and would give one table's changes to the other",
                        "move them in two migrations (one each), or rename one of them"));
            }
        }
    }

    /** What logical replication needs of the server: wal_level, the REPLICATION right, a free slot and WAL sender. */
    private static void replicationSettings(Connection c, Identity me, List<Finding> out) throws SQLException {
        String walLevel = stringQuery(c, "SELECT current_setting('wal_level')");
        if (walLevel.equals("logical")) {
            out.add(Finding.ok("wal_level", "source", "wal_level is logical"));
        } else {
            out.add(Finding.error("wal_level", "source", "wal_level must be 'logical', not '" + walLevel + "'",
                    "Set wal_level = logical (ALTER SYSTEM SET wal_level = logical;) and restart PostgreSQL"));
        }
        if (me.superuser || me.replication) {
            out.add(Finding.ok("replication_privilege", "source", "user " + me.user
                    + (me.superuser ? " is a superuser" : " has the REPLICATION attribute")));
        } else {
            out.add(Finding.error("replication_privilege", "source", "user " + me.user + " may not stream changes: "
                    + "it has neither REPLICATION nor SUPERUSER", "ALTER ROLE " + PgIdent.quote(me.user)
                    + " WITH REPLICATION;  (on Amazon RDS / Aurora: GRANT rds_replication TO "
                    + PgIdent.quote(me.user) + ";)"));
        }
        int maxSlots = intQuery(c, "SELECT current_setting('max_replication_slots')::int");
        int usedSlots = intQuery(c, "SELECT count(*)::int FROM pg_replication_slots");
        if (usedSlots < maxSlots) {
            out.add(Finding.ok("replication_slots", "source", (maxSlots - usedSlots) + " of " + maxSlots
                    + " replication slots free"));
        } else {
            out.add(Finding.error("replication_slots", "source", "all " + maxSlots + " replication slots are in use",
                    "drop an unused slot (SELECT pg_drop_replication_slot('name');) or raise max_replication_slots "
                            + "(ALTER SYSTEM SET max_replication_slots = " + (maxSlots + 2) + ";) and restart"));
        }
        int maxSenders = intQuery(c, "SELECT current_setting('max_wal_senders')::int");
        int usedSenders = intQuery(c, "SELECT count(*)::int FROM pg_stat_replication");
        if (usedSenders < maxSenders) {
            out.add(Finding.ok("wal_senders", "source", (maxSenders - usedSenders) + " of " + maxSenders
                    + " WAL senders free"));
        } else {
            out.add(Finding.error("wal_senders", "source", "all " + maxSenders + " WAL senders are busy",
                    "raise max_wal_senders (ALTER SYSTEM SET max_wal_senders = " + (maxSenders + 2)
                            + ";) and restart"));
        }
    }

    /** Whether the user may create the stream's publication and add every table to it, each with a replica identity. */
    private void publication(Connection c, PreflightRequest request, Identity me, List<Finding> out)
            throws SQLException {
        Manifest m = request.manifest();
        boolean canCreatePublication = me.superuser
                || booleanQuery(c, "SELECT has_database_privilege(current_database(), 'CREATE')");
        if (!canCreatePublication) {
            out.add(Finding.error("publication", "source", "user " + me.user + " may not create the publication "
                    + Streams.name(m.id(), StreamDirection.FORWARD) + " in database " + me.database, "GRANT CREATE ON DATABASE "
                    + PgIdent.quote(me.database) + " TO " + PgIdent.quote(me.user) + ";"));
        }
        String stream = Streams.name(m.id(), StreamDirection.FORWARD);
        Optional<String> recorded = PostgresChangeCapture.recordedOwner(c, stream);
        String streamOwner = Streams.owner(m.id());
        if (recorded.isPresent() ? !recorded.get().equals(streamOwner) : PostgresChangeCapture.slotExists(c, stream)) {
            String why = PostgresChangeCapture.foreign(stream, recorded.orElse(""), streamOwner).getMessage();
            int fix = why.indexOf(" If it is");
            out.add(Finding.error("stream_owner", "source", why.substring(0, fix), why.substring(fix + 1)));
        }
        int publishable = 0;
        for (TableInfo t : request.sourceTables()) {
            Optional<PostgresIntrospector.PgTable> pg = introspector.find(c, t.ref());
            if (pg.isEmpty()) {
                continue;
            }
            String owner = pg.get().owner();
            boolean ownerRights = me.superuser || owner.equals(me.user) || memberOf(c, owner);
            if (ownerRights) {
                publishable++;
            } else {
                out.add(Finding.error("publication", t.ref().qualified(), "adding table " + t.ref().qualified()
                        + " to the publication needs its owner's rights; it is owned by " + owner,
                        "GRANT " + PgIdent.quote(owner) + " TO " + PgIdent.quote(me.user) + ";"));
            }
            char ri = pg.get().replicaIdentity();
            boolean hasPk = t.primaryKey() != null;
            if (ri == 'n' || (ri == 'd' && !hasPk)) {
                Optional<KeyInfo> key = t.chunkKey();
                out.add(Finding.error("replica_identity", t.ref().qualified(), "table " + t.ref().qualified()
                        + " has no replica identity: once published, UPDATE and DELETE on it would fail",
                        key.map(k -> "ALTER TABLE " + PgIdent.qualified(t.ref().schema(), t.ref().name())
                                + " REPLICA IDENTITY USING INDEX " + PgIdent.quote(k.name()) + ";")
                                .orElse("add a primary key")));
            }
        }
        if (canCreatePublication && publishable == request.sourceTables().size()) {
            out.add(Finding.ok("publication", "source", "user " + me.user + " may create the publication "
                    + Streams.name(m.id(), StreamDirection.FORWARD) + " for every table in scope"));
        }
    }

    private void target(Connection c, PreflightRequest request, Identity me, int version, List<Finding> out)
            throws SQLException {
        List<String> schemasToCheck = new ArrayList<>();
        for (TableInfo source : request.sourceTables()) {
            TableRef t = request.targetTables().getOrDefault(source.ref(), source.ref());
            if (!targetTable(c, request, me, source, t, out) && !schemasToCheck.contains(t.schema())) {
                schemasToCheck.add(t.schema());
            }
        }
        createPrivileges(c, me, schemasToCheck, out);
        boolean canSkipTriggers = me.superuser || (version >= 150000
                && booleanQuery(c, "SELECT has_parameter_privilege('session_replication_role', 'SET')"));
        if (canSkipTriggers) {
            out.add(Finding.ok("session_replication_role", "target", "copied and applied rows will not fire target "
                    + "triggers"));
        } else {
            out.add(Finding.warning("session_replication_role", "target", "user " + me.user + " may not set "
                    + "session_replication_role, so target triggers and foreign-key checks will fire for copied rows",
                    version >= 150000 ? "GRANT SET ON PARAMETER session_replication_role TO " + PgIdent.quote(me.user)
                            + ";" : "run the migration as a superuser on the target"));
        }
    }

    /**
     * The target table {@code t} of {@code source}: privileges, emptiness and compatibility when it exists. Returns
     * false when it does not exist yet (its schema then needs a CREATE privilege).
     */
    private boolean targetTable(Connection c, PreflightRequest request, Identity me, TableInfo source, TableRef t,
                                List<Finding> out) throws SQLException {
        Manifest m = request.manifest();
        String name = t.qualified();
        Optional<TableInfo> existing = introspector.describe(c, t);
        if (existing.isEmpty()) {
            if (m.schema() == SchemaMode.EXISTING) {
                out.add(Finding.error("target_table_missing", name, "table " + name + " does not exist on the "
                        + "target, and schema: existing does not create it", "create it, or set schema: create"));
                return true; // nothing will be created
            }
            out.add(Finding.ok("target_table_absent", name, "will be created"));
            return false;
        }
        List<String> missing = new ArrayList<>();
        for (String p : List.of("SELECT", "INSERT", "UPDATE", "DELETE")) {
            if (!tablePrivilege(c, t, p)) {
                missing.add(p);
            }
        }
        if (!missing.isEmpty()) {
            out.add(Finding.error("target_privilege", name, "user " + me.user + " lacks "
                    + String.join(", ", missing) + " on " + name, grant(String.join(", ", missing), List.of(t),
                    me.user)));
            return true;
        }
        if (m.schema() == SchemaMode.CREATE && !request.resuming()) {
            if (hasRows(c, t)) {
                out.add(Finding.error("target_table_not_empty", name, "table " + name + " exists on the target "
                        + "and has rows; schema: create never overwrites a table", "empty it (TRUNCATE " + name
                        + ";), drop it, or set schema: existing to load into it"));
                return true;
            }
            out.add(Finding.ok("target_table_empty", name, "exists and is empty; it will be loaded as it is"));
        }
        // A table this migration created may still lack its primary key: it is built after the data.
        boolean mysqlSource = m.source() != null && Engine.ofUrl(m.source().url()).map(Engine::mysqlFamily)
                .orElse(false);
        compatible(source, existing.get(), !(request.resuming() && m.schema() == SchemaMode.CREATE),
                mysqlSource ? m.types() : null, out);
        return true;
    }

    /** The schemas tables will be created in: the user may create tables there, or create the schema. */
    private static void createPrivileges(Connection c, Identity me, List<String> schemas, List<Finding> out)
            throws SQLException {
        for (String schema : schemas) {
            boolean exists = booleanQuery(c, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", schema);
            if (exists && !booleanQuery(c, "SELECT has_schema_privilege(?, 'CREATE')", schema)) {
                out.add(Finding.error("create_privilege", schema, "user " + me.user + " may not create tables in "
                        + "schema " + schema, "GRANT CREATE ON SCHEMA " + PgIdent.quote(schema) + " TO "
                        + PgIdent.quote(me.user) + ";"));
            } else if (!exists && !booleanQuery(c, "SELECT has_database_privilege(current_database(), 'CREATE')")) {
                out.add(Finding.error("create_privilege", schema, "schema " + schema + " does not exist and user "
                        + me.user + " may not create it", "GRANT CREATE ON DATABASE " + PgIdent.quote(me.database)
                        + " TO " + PgIdent.quote(me.user) + ";  (or create the schema: CREATE SCHEMA "
                        + PgIdent.quote(schema) + " AUTHORIZATION " + PgIdent.quote(me.user) + ";)"));
            }
        }
    }

    /**
     * An existing target table must have every source column and a key on the source's chunk key columns.
     *
     * @param mysqlTypes for a MySQL or MariaDB source (else null), the manifest's type choices: its column types are
     *                   held against the PostgreSQL type they map to ({@link TypeMapping#MYSQL_TO_POSTGRESQL}, or the
     *                   one {@code schema.columns} chose among the rule's), and a lossy or risky mapping is a warning
     */
    private static void compatible(TableInfo source, TableInfo target, boolean needKey, ColumnTypes mysqlTypes,
                                   List<Finding> out) {
        boolean mysqlSource = mysqlTypes != null;
        String name = target.ref().qualified();
        List<String> missingColumns = source.columns().stream().map(col -> col.name())
                .filter(n -> target.column(n).isEmpty()).toList();
        if (!missingColumns.isEmpty()) {
            out.add(Finding.error("target_columns", name, "target table " + name + " lacks column(s) "
                    + String.join(", ", missingColumns), "add them to the target table, or set schema: create on an "
                    + "empty target"));
        }
        for (ColumnInfo col : source.columns()) {
            Optional<ColumnInfo> t = target.column(col.name());
            if (t.isEmpty() || col.generated()) {
                continue;
            }
            String needed = col.nativeType();
            if (mysqlSource) {
                TypeMapping.Mapped mapped = TypeMapping.MYSQL_TO_POSTGRESQL.map(col.nativeType(), mysqlTypes.column(
                        source.ref().schema(), source.ref().name(), col.name()).map(ColumnTypes.Column::type)
                        .orElse(null));
                if (!mapped.mapped()) {
                    out.add(Finding.error("target_column_type", name, "column " + col.name() + " is "
                            + col.nativeType() + " on the source, " + (mapped.chosen() ? "and schema.columns chose a "
                            + "type its rule does not offer" : "which this version does not map to PostgreSQL"),
                            mapped.note()));
                    continue;
                }
                needed = mapped.target();
                if (!mapped.note().isEmpty()) {
                    out.add(Finding.warning("type_mapping", name, "column " + col.name() + ": " + col.nativeType()
                            + " maps to " + needed + "; " + mapped.note(), "check the column's values before the "
                            + "copy"));
                }
            }
            if (!PgTypes.holds(t.get().nativeType(), needed)) {
                out.add(Finding.error("target_column_type", name, "column " + col.name() + " is " + col.nativeType()
                        + " on the source" + (needed.equals(col.nativeType()) ? "" : " (" + needed + " in PostgreSQL)")
                        + " but " + t.get().nativeType() + " on the target, which cannot hold every value unchanged",
                        "ALTER TABLE " + name + " ALTER COLUMN " + PgIdent.quote(col.name()) + " TYPE " + needed
                                + ";"));
            }
            if (col.nullable() && !t.get().nullable()) {
                out.add(Finding.warning("target_column_null", name, "column " + col.name() + " allows NULL on the "
                        + "source but not on the target; a row with NULL there will fail its chunk",
                        "ALTER TABLE " + name + " ALTER COLUMN " + PgIdent.quote(col.name()) + " DROP NOT NULL;"));
            }
        }
        for (ColumnInfo extra : target.columns()) {
            if (source.column(extra.name()).isEmpty() && !extra.nullable() && extra.defaultExpression() == null
                    && !extra.generated() && !extra.identity()) {
                out.add(Finding.error("target_columns", name, "target column " + extra.name() + " is NOT NULL without "
                        + "a default and has no source column, so no row can be loaded", "give it a default, allow "
                        + "NULL, or drop it"));
            }
        }
        Optional<KeyInfo> key = source.chunkKey();
        if (key.isPresent() && needKey) {
            List<String> cols = key.get().columns();
            boolean matching = (target.primaryKey() != null && target.primaryKey().columns().equals(cols))
                    || target.uniqueKeys().stream().anyMatch(k -> k.columns().equals(cols));
            if (!matching) {
                out.add(Finding.error("target_key", name, "target table " + name + " has no primary or unique key on ("
                        + String.join(", ", cols) + "), the source's key", "ALTER TABLE " + name + " ADD PRIMARY KEY ("
                        + cols.stream().map(PgIdent::quote).collect(Collectors.joining(", ")) + ");"));
            }
        }
    }

    private static boolean hasRows(Connection c, TableRef t) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM "
                + PgIdent.qualified(t.schema(), t.name()) + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static String grant(String privileges, List<TableRef> tables, String user) {
        return "GRANT " + privileges + " ON " + tables.stream().map(t -> PgIdent.qualified(t.schema(), t.name()))
                .collect(Collectors.joining(", ")) + " TO " + PgIdent.quote(user) + ";";
    }

    private static String names(List<TableRef> tables) {
        return tables.stream().map(TableRef::qualified).collect(Collectors.joining(", "));
    }

    private static boolean tablePrivilege(Connection c, TableRef t, String privilege) throws SQLException {
        return booleanQuery(c, "SELECT has_schema_privilege(?, 'USAGE') AND has_table_privilege(?::regclass, ?)",
                t.schema(), PgIdent.qualified(t.schema(), t.name()), privilege);
    }

    private static boolean memberOf(Connection c, String role) throws SQLException {
        return booleanQuery(c, "SELECT pg_has_role(current_user, ?, 'USAGE')", role);
    }

    /** Who we are connected as. */
    private record Identity(String user, String database, boolean superuser, boolean replication) {
    }

    private static Identity identity(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT current_user, current_database(), rolsuper, rolreplication FROM pg_roles "
                        + "WHERE rolname = current_user")) {
            rs.next();
            return new Identity(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4));
        }
    }

    private static int intQuery(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String stringQuery(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static boolean booleanQuery(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

}
