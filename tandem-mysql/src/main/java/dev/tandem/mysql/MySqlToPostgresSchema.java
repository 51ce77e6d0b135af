package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.types.PgArrays;
import dev.tandem.core.types.TypeMapping;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * {@code schema: create} from MySQL / MariaDB onto PostgreSQL: each table made in a schema named like the source
 * database, every column in the type {@link TypeMapping#MYSQL_TO_POSTGRESQL} gives it (or the one
 * {@code schema.columns} chose among the rule's), NOT NULL (but not on a date column whose zero dates become NULL),
 * literal and
 * CURRENT_TIMESTAMP defaults, AUTO_INCREMENT as an identity column (set past the source's AUTO_INCREMENT after the
 * data); after the data the secondary and unique indexes and the foreign keys between tables in scope. What has no
 * PostgreSQL equivalent is said, never silently dropped: a column type no rule maps (or one a rule refuses) and a
 * generated column stop the table with the fix; a prefix, FULLTEXT or SPATIAL index, a default that is an expression
 * and ON UPDATE CURRENT_TIMESTAMP are reported as lines of what was left out.
 * <p>The primary key is made with the table, not after the data, when a key column is text: MySQL's collations
 * (case-insensitive ones above all) order text unlike PostgreSQL, so a chunk's key range means other rows on the
 * target, and a chunk copied again (after a crash) is replaced by key, which needs the key.
 */
final class MySqlToPostgresSchema implements SchemaCopier {
    private static final int MAX_NAME = 63;
    private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");
    private static final Pattern CURRENT = Pattern.compile("(?i)current_timestamp(\\(\\d?\\))?|now\\(\\d?\\)");
    private static final Pattern QUOTED = Pattern.compile("'((?:[^'\\\\]|'')*)'");
    private static final Set<String> DATED = Set.of("date", "datetime", "timestamp");

    private final ColumnTypes types;

    /** @param types the manifest's choices, resolved towards PostgreSQL ({@link ColumnTypes#towards}) */
    MySqlToPostgresSchema(ColumnTypes types) {
        this.types = types;
    }

    /** A DATE, DATETIME or TIMESTAMP column: one that may hold zero dates. */
    static boolean dated(ColumnInfo col) {
        return DATED.contains(col.nativeType().toLowerCase(Locale.ROOT).replaceAll("[ (].*", ""));
    }

    /** Whether a column's values may order differently on the two engines (text under a collation). */
    static boolean collated(String nativeType) {
        String base = nativeType.toLowerCase(Locale.ROOT).replaceAll("[ (].*", "");
        return Set.of("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set").contains(base);
    }

    static boolean keyIsCollated(TableInfo t) {
        return t.keyColumns().stream().map(KeyColumn::type).anyMatch(MySqlToPostgresSchema::collated);
    }

    @Override
    public List<String> createTables(Connection source, Connection target, List<TableInfo> tables,
                                     boolean deferPrimaryKeys) throws SQLException {
        List<String> done = new ArrayList<>();
        Set<String> schemas = new LinkedHashSet<>();
        tables.forEach(t -> schemas.add(t.ref().schema()));
        for (String schema : schemas) {
            if (!exists(target, "SELECT 1 FROM pg_namespace WHERE nspname = ?", schema)) {
                execute(target, "CREATE SCHEMA " + quote(schema));
                done.add("created schema " + schema);
            }
        }
        for (TableInfo t : tables) {
            if (tableExists(target, t.ref())) {
                continue;
            }
            boolean deferKey = deferPrimaryKeys && !keyIsCollated(t);
            List<String> columns = new ArrayList<>();
            for (ColumnInfo col : t.columns()) {
                columns.add(column(t.ref(), col, done));
            }
            if (t.primaryKey() != null && !deferKey) {
                columns.add("PRIMARY KEY (" + columnList(t.primaryKey().columns()) + ")");
            }
            execute(target, "CREATE TABLE " + table(t.ref()) + " (" + String.join(", ", columns) + ")");
            done.add("created table " + t.ref() + (deferKey && t.primaryKey() != null ? " (primary key after the data)"
                    : ""));
        }
        return done;
    }

    private String column(TableRef table, ColumnInfo col, List<String> done) throws SQLException {
        String where = table.qualified() + "." + col.name();
        if (col.generated()) {
            throw new SQLException(where + " is a generated column, whose MySQL expression schema: create does not "
                    + "translate; create the table on the target yourself (with the expression in PostgreSQL) and set "
                    + "schema: existing");
        }
        TypeMapping.Mapped mapped = TypeMapping.MYSQL_TO_POSTGRESQL.map(col.nativeType(), types.column(
                table.schema(), table.name(), col.name()).map(ColumnTypes.Column::type).orElse(null));
        if (!mapped.mapped()) {
            throw new SQLException(where + " is " + col.nativeType() + ": " + mapped.note());
        }
        StringBuilder sql = new StringBuilder(quote(col.name())).append(' ').append(mapped.target());
        if (col.identity()) {
            sql.append(" GENERATED BY DEFAULT AS IDENTITY");
        } else if (col.defaultExpression() != null) {
            Optional<String> d = defaultValue(col.defaultExpression(), mapped.target());
            if (d.isPresent()) {
                sql.append(" DEFAULT ").append(d.get());
            } else {
                done.add("left out the default " + col.defaultExpression() + " of " + where + " (not a literal "
                        + "PostgreSQL reads the same way; set it on the target if it matters)");
            }
        }
        if (mapped.target().equals("text") && col.nativeType().toLowerCase(Locale.ROOT).startsWith("enum(")) {
            sql.append(' ').append(enumCheck(col));
        }
        if (!col.nullable() && dated(col) && types.zeroDatesOrRefuse() == ColumnTypes.ZeroDates.AS_NULL) {
            done.add("made " + where + " without NOT NULL (schema.zero_dates: as_null writes its zero dates as NULL)");
        } else if (!col.nullable()) {
            sql.append(" NOT NULL");
        }
        return sql.toString();
    }

    /**
     * An {@code enum}'s members as a CHECK on the text it is made as, so the target keeps the source's domain after a
     * cutover; with {@code ''}, the value MySQL stores for one outside its members when not in strict mode.
     */
    static String enumCheck(ColumnInfo col) {
        List<String> members = new ArrayList<>(BinlogValues.members(col.nativeType()));
        if (!members.contains("")) {
            members.add("");
        }
        return "CHECK (" + quote(col.name()) + " IN (" + members.stream().map(m -> "'" + m.replace("'", "''") + "'")
                .collect(Collectors.joining(", ")) + "))";
    }

    /**
     * A MySQL default as PostgreSQL SQL: a number (0/1 for a boolean), a quoted string, CURRENT_TIMESTAMP; empty for
     * anything else (an expression, a zero date). MariaDB writes string defaults quoted, MySQL bare.
     */
    static Optional<String> defaultValue(String mysql, String pgType) {
        String d = mysql.trim();
        if (CURRENT.matcher(d).matches()) {
            return pgType.startsWith("timestamp") || pgType.equals("date") ? Optional.of("CURRENT_TIMESTAMP")
                    : Optional.empty();
        }
        if (pgType.equals("boolean")) {
            return d.equals("0") || d.equals("'0'") ? Optional.of("false")
                    : d.equals("1") || d.equals("'1'") ? Optional.of("true") : Optional.empty();
        }
        var quoted = QUOTED.matcher(d);
        String literal = quoted.matches() ? quoted.group(1).replace("''", "'") : d;
        if (literal.startsWith("0000-00-00") || literal.contains("\\")) {
            return Optional.empty();
        }
        if (NUMBER.matcher(literal).matches() && !pgType.startsWith("character") && !pgType.equals("text")) {
            return Optional.of(literal);
        }
        if (!quoted.matches() && (d.contains("(") || d.equalsIgnoreCase("null"))) {
            return Optional.empty(); // an expression (MySQL 8 writes those bare too)
        }
        if (pgType.equals("text[]")) { // a SET's members
            literal = PgArrays.format(MySqlValues.setMembers(literal));
        }
        return Optional.of("'" + literal.replace("'", "''") + "'");
    }

    @Override
    public List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables,
                                     int parallelism) throws SQLException {
        return finishTables(source, target, tables, parallelism, false);
    }

    @Override
    public List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables,
                                     int parallelism, boolean streaming) throws SQLException {
        List<String> done = new ArrayList<>();
        Set<TableRef> inScope = tables.stream().map(TableInfo::ref).collect(Collectors.toSet());
        try (Connection t = target.open()) {
            for (TableInfo table : tables) {
                if (table.primaryKey() != null && !exists(t, "SELECT 1 FROM pg_constraint WHERE contype = 'p' "
                        + "AND conrelid = to_regclass(?)", table(table.ref()))) {
                    String sql = "ALTER TABLE " + table(table.ref()) + " ADD PRIMARY KEY ("
                            + columnList(table.primaryKey().columns()) + ")";
                    execute(t, sql);
                    done.add(sql);
                }
                for (String sql : indexes(source, t, table.ref(), done)) {
                    execute(t, sql);
                    done.add(sql);
                }
            }
            for (TableInfo table : tables) {
                for (String sql : foreignKeys(source, t, table.ref(), inScope, done)) {
                    execute(t, streaming ? sql + " NOT VALID" : sql);
                    done.add(streaming ? sql + " NOT VALID" : sql);
                }
                identities(source, t, table, done);
                execute(t, "ANALYZE " + table(table.ref()));
            }
        }
        return done;
    }

    /** CREATE INDEX for each secondary index the target lacks (by its name, {@code table_index}). */
    private static List<String> indexes(Connection source, Connection target, TableRef ref, List<String> done)
            throws SQLException {
        Map<String, List<String>> columns = new LinkedHashMap<>();
        Map<String, Boolean> unique = new LinkedHashMap<>();
        Set<String> skipped = new LinkedHashSet<>();
        try (PreparedStatement ps = source.prepareStatement("SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, SUB_PART, "
                + "INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                + "AND INDEX_NAME <> 'PRIMARY' ORDER BY INDEX_NAME, SEQ_IN_INDEX")) {
            ps.setString(1, ref.schema());
            ps.setString(2, ref.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    rs.getObject(4);
                    boolean prefix = !rs.wasNull();
                    String type = rs.getString(5);
                    if (prefix || rs.getString(2) == null || !"BTREE".equalsIgnoreCase(type)
                            && !"HASH".equalsIgnoreCase(type)) {
                        if (skipped.add(name)) {
                            done.add("left out index " + name + " of " + ref + " (" + (prefix ? "a prefix index"
                                    : rs.getString(2) == null ? "an index on an expression" : "a " + type
                                    + " index") + ", which PostgreSQL has no equal of; create a fitting one yourself)");
                        }
                        continue;
                    }
                    columns.computeIfAbsent(name, k -> new ArrayList<>()).add(rs.getString(2));
                    unique.put(name, rs.getInt(3) == 0);
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : columns.entrySet()) {
            if (skipped.contains(e.getKey())) {
                continue;
            }
            String name = name(ref.name() + "_" + e.getKey());
            if (exists(target, "SELECT 1 FROM pg_indexes WHERE schemaname = ? AND indexname = ?", ref.schema(),
                    name)) {
                continue;
            }
            out.add("CREATE " + (unique.get(e.getKey()) ? "UNIQUE " : "") + "INDEX " + quote(name) + " ON "
                    + table(ref) + " (" + columnList(e.getValue()) + ")");
        }
        return out;
    }

    /** ALTER TABLE ... ADD FOREIGN KEY for each foreign key to a table in scope the target lacks. */
    private static List<String> foreignKeys(Connection source, Connection target, TableRef ref, Set<TableRef> inScope,
                                            List<String> done) throws SQLException {
        record Fk(TableRef to, List<String> from, List<String> cols, String onUpdate, String onDelete) {
        }
        Map<String, Fk> fks = new LinkedHashMap<>();
        Map<String, String[]> rules = MySqlIntrospector.foreignKeyRules(source, ref);
        try (PreparedStatement ps = source.prepareStatement("SELECT CONSTRAINT_NAME, COLUMN_NAME, "
                + "REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME "
                + "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                + "AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION")) {
            ps.setString(1, ref.schema());
            ps.setString(2, ref.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    Fk fk = fks.get(name);
                    if (fk == null) {
                        String[] r = rules.getOrDefault(name, new String[] {null, null});
                        fk = new Fk(new TableRef(rs.getString(3), rs.getString(4)), new ArrayList<>(),
                                new ArrayList<>(), r[1], r[0]);
                        fks.put(name, fk);
                    }
                    fk.from().add(rs.getString(2));
                    fk.cols().add(rs.getString(5));
                }
            }
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Fk> e : fks.entrySet()) {
            Fk fk = e.getValue();
            if (!inScope.contains(fk.to())) {
                done.add("left out foreign key " + e.getKey() + " of " + ref + " (it references " + fk.to()
                        + ", which this migration does not move)");
                continue;
            }
            String name = name(e.getKey());
            if (exists(target, "SELECT 1 FROM pg_constraint WHERE conname = ? AND conrelid = to_regclass(?)", name,
                    table(ref))) {
                continue;
            }
            out.add("ALTER TABLE " + table(ref) + " ADD CONSTRAINT " + quote(name) + " FOREIGN KEY ("
                    + columnList(fk.from()) + ") REFERENCES " + table(fk.to()) + " (" + columnList(fk.cols())
                    + ") ON UPDATE " + rule(fk.onUpdate()) + " ON DELETE " + rule(fk.onDelete()));
        }
        return out;
    }

    private static String rule(String mysql) {
        return switch (mysql == null ? "" : mysql.toUpperCase(Locale.ROOT)) {
            case "CASCADE" -> "CASCADE";
            case "SET NULL" -> "SET NULL";
            case "SET DEFAULT" -> "SET DEFAULT";
            case "NO ACTION" -> "NO ACTION";
            default -> "RESTRICT";
        };
    }

    /**
     * Each identity column's sequence set past both the source's AUTO_INCREMENT and the largest value copied, so a
     * row inserted on the target cannot take a key the source gave out (never lowered).
     */
    private static void identities(Connection source, Connection target, TableInfo table, List<String> done)
            throws SQLException {
        for (ColumnInfo col : table.columns()) {
            if (col.identity()) {
                done.add(identityPast(target, table.ref(), col.name(), autoIncrement(source, table.ref())));
            }
        }
    }

    /** The identity columns, as {@code schema TAB table TAB column}: what a cutover or rollback moves on. */
    @Override
    public List<String> sequences(Connection c, List<TableInfo> tables) {
        List<String> out = new ArrayList<>();
        for (TableInfo t : tables) {
            for (ColumnInfo col : t.columns()) {
                if (col.identity()) {
                    out.add(t.ref().schema() + "\t" + t.ref().name() + "\t" + col.name());
                }
            }
        }
        return out;
    }

    /**
     * At a cutover ({@code to} is PostgreSQL): each identity set past the MySQL table's AUTO_INCREMENT and the largest
     * value on the target. At a rollback ({@code to} is MySQL): each table's AUTO_INCREMENT set past the identity's
     * next value and the largest value on PostgreSQL. Never lowered either way.
     */
    @Override
    public List<String> syncSequences(Connection from, Connection to, List<String> sequences) throws SQLException {
        boolean toPostgres = "PostgreSQL".equals(to.getMetaData().getDatabaseProductName());
        MySqlToMySqlSchema.freshStatistics(toPostgres ? from : to);
        List<String> done = new ArrayList<>();
        for (String s : sequences) {
            String[] p = s.split("\t", 3);
            TableRef ref = new TableRef(p[0], p[1]);
            if (toPostgres) {
                done.add(identityPast(to, ref, p[2], autoIncrement(from, ref)));
                continue;
            }
            long next;
            String seq = "pg_get_serial_sequence(" + literal(table(ref)) + ", " + literal(p[2]) + ")";
            try (Statement st = from.createStatement(); ResultSet rs = st.executeQuery("SELECT GREATEST((SELECT "
                    + "coalesce(max(" + quote(p[2]) + "), 0) + 1 FROM " + table(ref) + "), (SELECT CASE WHEN "
                    + "last_value IS NULL THEN 1 ELSE last_value + 1 END FROM pg_sequences WHERE format('%I.%I', "
                    + "schemaname, sequencename) = " + seq + "))")) {
                rs.next();
                next = rs.getLong(1);
            }
            done.add(MySqlToMySqlSchema.raiseAutoIncrement(to, ref, next));
        }
        return done;
    }

    private static long autoIncrement(Connection mysql, TableRef ref) throws SQLException {
        return Math.max(1, MySqlToMySqlSchema.counter(mysql, ref));
    }

    /** Sets the identity of {@code column} to continue at {@code next} or later (never lower); says where. */
    private static String identityPast(Connection pg, TableRef ref, String column, long next) throws SQLException {
        String seq = "pg_get_serial_sequence(" + literal(table(ref)) + ", " + literal(column) + ")";
        String sql = "SELECT setval(s, GREATEST(" + next + ", (SELECT coalesce(max(" + quote(column)
                + ") + 1, 1) FROM " + table(ref) + "), nextval(s)), false) FROM (SELECT " + seq + " AS s) q";
        try (Statement st = pg.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return "set the identity of " + ref + "." + column + " to continue at " + rs.getLong(1);
        }
    }

    private static boolean tableExists(Connection target, TableRef ref) throws SQLException {
        return exists(target, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = ? AND c.relname = ?", ref.schema(), ref.name());
    }

    private static boolean exists(Connection c, String sql, String... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** A PostgreSQL name: MySQL's may be longer than PostgreSQL keeps (63 bytes), so those are cut. */
    private static String name(String n) {
        return n.length() <= MAX_NAME ? n : n.substring(0, MAX_NAME);
    }

    static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String table(TableRef t) {
        return quote(t.schema()) + "." + quote(t.name());
    }

    private static String columnList(List<String> names) {
        return names.stream().map(MySqlToPostgresSchema::quote).collect(Collectors.joining(", "));
    }
}
