package dev.tandem.mysql;

import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.Introspector;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads table shapes from information_schema. Only the database the URL names is in view. */
final class MySqlIntrospector implements Introspector {
    private static final String RULE = "(RESTRICT|CASCADE|SET NULL|NO ACTION|SET DEFAULT)";
    private static final Pattern FOREIGN_KEY = Pattern.compile("^CONSTRAINT `((?:[^`]|``)+)` FOREIGN KEY .*? "
            + "REFERENCES .*?\\)(?: ON DELETE " + RULE + ")?(?: ON UPDATE " + RULE + ")?,?$");
    private static final Pattern JSON_VALID = Pattern.compile("(?i)json_valid\\(`((?:[^`]|``)+)`\\)");
    private final Flavor flavor;

    MySqlIntrospector(Flavor flavor) {
        this.flavor = flavor;
    }

    @Override
    public String defaultSchema(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT DATABASE()")) {
            rs.next();
            String db = rs.getString(1);
            return db == null ? "" : db;
        }
    }

    @Override
    public List<TableRef> listTables(Connection c) throws SQLException {
        List<TableRef> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT TABLE_SCHEMA, TABLE_NAME "
                + "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' "
                + "ORDER BY TABLE_NAME")) {
            while (rs.next()) {
                out.add(new TableRef(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    /** information_schema shows a user only the tables it has some privilege on. */
    @Override
    public boolean listsOnlyPrivilegedTables() {
        return true;
    }

    @Override
    public Optional<TableInfo> describe(Connection c, TableRef t) throws SQLException {
        long rows;
        long bytes;
        try (PreparedStatement ps = c.prepareStatement("SELECT TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES "
                + "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE = 'BASE TABLE'")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                rows = rs.getLong(1);
                bytes = rs.getLong(2);
            }
        }
        Set<String> json = flavor == Flavor.MARIADB ? mariaDbJson(c, t) : Set.of();
        List<ColumnInfo> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
                + "EXTRA, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                + "ORDER BY ORDINAL_POSITION")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String extra = rs.getString(5) == null ? "" : rs.getString(5).toLowerCase(Locale.ROOT);
                    String dflt = rs.getString(4);
                    if ("NULL".equals(dflt)) {
                        dflt = null; // MariaDB 10.2+ writes a NULL default as the text NULL
                    }
                    String type = json.contains(rs.getString(1)) ? "json" : rs.getString(2);
                    columns.add(new ColumnInfo(rs.getString(1), type, jdbcType(type),
                            "YES".equals(rs.getString(3)), dflt, extra.contains("generated"),
                            extra.contains("auto_increment"), true));
                }
            }
        }
        List<KeyInfo> keys = keys(c, t, columns);
        KeyInfo primary = keys.isEmpty() || !keys.get(0).primary() ? null : keys.get(0);
        List<KeyInfo> unique = primary == null ? keys : keys.subList(1, keys.size());
        return Optional.of(new TableInfo(t, columns, primary, unique, rows, bytes));
    }

    /**
     * MariaDB's JSON is LONGTEXT with a {@code json_valid(column)} check (information_schema says longtext): those
     * columns, so they are described as json (PostgreSQL's jsonb on a target, compared as JSON by verify).
     */
    private static Set<String> mariaDbJson(Connection c, TableRef t) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                + "WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Matcher m = JSON_VALID.matcher(rs.getString(1).trim());
                    if (m.matches()) {
                        out.add(m.group(1).replace("``", "`"));
                    }
                }
            }
        }
        return out;
    }

    /**
     * The table's primary key (first, if any) and its unique keys on NOT NULL columns; prefix indexes are no keys.
     */
    private static List<KeyInfo> keys(Connection c, TableRef t, List<ColumnInfo> columns) throws SQLException {
        Map<String, List<String>> indexes = new LinkedHashMap<>();
        List<String> partial = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT INDEX_NAME, COLUMN_NAME, SUB_PART "
                + "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 "
                + "ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    indexes.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
                    rs.getObject(3);
                    if (!rs.wasNull()) {
                        partial.add(rs.getString(1));
                    }
                }
            }
        }
        List<KeyInfo> keys = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : indexes.entrySet()) {
            if (partial.contains(e.getKey()) || e.getValue().contains(null)) {
                continue; // a prefix index does not identify a row
            }
            if (e.getKey().equals("PRIMARY")) {
                keys.add(0, new KeyInfo("PRIMARY", e.getValue(), true));
            } else {
                boolean notNull = e.getValue().stream().allMatch(n -> columns.stream()
                        .anyMatch(col -> col.name().equals(n) && !col.nullable()));
                if (notNull) {
                    keys.add(new KeyInfo(e.getKey(), e.getValue(), false));
                }
            }
        }
        return keys;
    }

    /**
     * Each foreign key's ON DELETE and ON UPDATE rules ({delete, update}), from SHOW CREATE TABLE: MariaDB shows
     * information_schema.REFERENTIAL_CONSTRAINTS only to a user with more than SELECT, and a rule not written there
     * is RESTRICT.
     */
    static Map<String, String[]> foreignKeyRules(Connection source, TableRef ref) throws SQLException {
        Map<String, String[]> out = new LinkedHashMap<>();
        try (Statement st = source.createStatement();
             ResultSet rs = st.executeQuery("SHOW CREATE TABLE " + MySqlSql.table(ref))) {
            if (!rs.next()) {
                return out;
            }
            for (String line : rs.getString(2).split("\n")) {
                var m = FOREIGN_KEY.matcher(line.trim());
                if (m.find()) {
                    out.put(m.group(1).replace("``", "`"), new String[] {m.group(2), m.group(3)});
                }
            }
        }
        return out;
    }

    /** The JDBC type of a MySQL column type ({@code COLUMN_TYPE}, e.g. {@code int(11) unsigned}). */
    static int jdbcType(String columnType) {
        String base = columnType.toLowerCase(Locale.ROOT).replaceAll("[ (].*", "");
        return switch (base) {
            case "tinyint" -> Types.TINYINT;
            case "smallint", "year" -> Types.SMALLINT;
            case "mediumint", "int", "integer" -> Types.INTEGER;
            case "bigint" -> Types.BIGINT;
            case "decimal", "numeric" -> Types.DECIMAL;
            case "float" -> Types.REAL;
            case "double", "real" -> Types.DOUBLE;
            case "bit", "bool", "boolean" -> Types.BIT;
            case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set" -> Types.VARCHAR;
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob" -> Types.BINARY;
            case "date" -> Types.DATE;
            case "time" -> Types.TIME;
            case "datetime", "timestamp" -> Types.TIMESTAMP;
            case "json" -> Types.LONGVARCHAR;
            default -> Types.OTHER;
        };
    }
}
