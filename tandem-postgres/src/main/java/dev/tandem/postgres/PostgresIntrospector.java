package dev.tandem.postgres;

import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.Introspector;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads table shapes from pg_catalog (not information_schema, which hides what the user may not use and is slow).
 * Ordinary and partitioned tables are listed; partitions are moved through their parent, so they are not.
 */
final class PostgresIntrospector implements Introspector {

    /** Where a table is in pg_catalog, with the statistics the plan and preflight need. */
    record PgTable(long oid, TableRef ref, String owner, char replicaIdentity, long estimatedRows, long bytes) {
    }

    @Override
    public String defaultSchema(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_schema()")) {
            rs.next();
            String s = rs.getString(1);
            return s == null ? "public" : s;
        }
    }

    @Override
    public List<TableRef> listTables(Connection c) throws SQLException {
        List<TableRef> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT n.nspname, c.relname
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
                 ORDER BY 1, 2""")) {
            while (rs.next()) {
                out.add(new TableRef(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    @Override
    public Optional<String> whyNotListed(Connection c, TableRef t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pn.nspname, p.relname
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  JOIN pg_inherits i ON i.inhrelid = c.oid
                  JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
                 WHERE n.nspname = ? AND c.relname = ? AND c.relispartition""")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of("is a partition of " + new TableRef(rs.getString(1),
                        rs.getString(2)).qualified() + ": a partition is moved with its partitioned table, not on its "
                        + "own") : Optional.empty();
            }
        }
    }

    /** The partitions of a partitioned table, or -1 when it is not partitioned. */
    static int partitions(Connection c, TableRef t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT c.relkind = 'p', (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ? AND c.relname = ?""")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1) ? rs.getInt(2) : -1;
            }
        }
    }

    /** The table's catalog entry, or empty when there is no such table. */
    Optional<PgTable> find(Connection c, TableRef t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT c.oid, pg_get_userbyid(c.relowner), c.relreplident,
                       CASE WHEN c.relkind = 'p'
                            THEN coalesce((SELECT sum(greatest(p.reltuples, 0))::bigint FROM pg_inherits i
                                            JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid), 0)
                            ELSE c.reltuples::bigint END,
                       CASE WHEN c.relkind = 'p'
                            THEN coalesce((SELECT sum(pg_table_size(i.inhrelid)) FROM pg_inherits i
                                            WHERE i.inhparent = c.oid), 0)
                            ELSE pg_table_size(c.oid) END
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')""")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new PgTable(rs.getLong(1), t, rs.getString(2), rs.getString(3).charAt(0),
                        rs.getLong(4), rs.getLong(5)));
            }
        }
    }

    @Override
    public Optional<TableInfo> describe(Connection c, TableRef t) throws SQLException {
        Optional<PgTable> table = find(c, t);
        if (table.isEmpty()) {
            return Optional.empty();
        }
        long oid = table.get().oid();
        List<ColumnInfo> columns = new ArrayList<>();
        Map<Integer, ColumnInfo> byAttnum = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                       pg_get_expr(d.adbin, d.adrelid), a.attgenerated, a.attidentity, t.typname, t.typcategory,
                       NOT ((t.typelem <> 0 AND t.typelem >= 16384) OR t.typtype IN ('c', 'r', 'm')
                            OR (t.typtype = 'd' AND bt.typelem >= 16384))
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String dflt = rs.getString(5);
                    boolean generated = "s".equals(rs.getString(6));
                    String identity = rs.getString(7);
                    boolean isIdentity = (identity != null && !identity.isEmpty())
                            || (!generated && dflt != null && dflt.startsWith("nextval("));
                    ColumnInfo col = new ColumnInfo(rs.getString(2), rs.getString(3),
                            jdbcType(rs.getString(8), rs.getString(9)), !rs.getBoolean(4), dflt, generated, isIdentity,
                            rs.getBoolean(10));
                    columns.add(col);
                    byAttnum.put(rs.getInt(1), col);
                }
            }
        }
        List<KeyInfo> keys = keys(c, oid, byAttnum);
        KeyInfo primary = keys.isEmpty() || !keys.get(0).primary() ? null : keys.get(0);
        List<KeyInfo> unique = primary == null ? keys : keys.subList(1, keys.size());
        return Optional.of(new TableInfo(t, columns, primary, unique, table.get().estimatedRows(),
                table.get().bytes()));
    }

    /**
     * The table's primary key (first, if any) and its unique keys whose columns are all NOT NULL; partial, expression,
     * invalid and deferrable indexes are no keys for row matching.
     */
    private static List<KeyInfo> keys(Connection c, long oid, Map<Integer, ColumnInfo> byAttnum) throws SQLException {
        List<KeyInfo> keys = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT ic.relname, i.indisprimary, i.indkey::int2[], i.indnkeyatts
                  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                 WHERE i.indrelid = ? AND (i.indisprimary OR i.indisunique)
                   AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indisvalid AND i.indimmediate
                 ORDER BY i.indisprimary DESC, ic.relname""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Array arr = rs.getArray(3);
                    Object[] attnums = (Object[]) arr.getArray();
                    int nkeys = rs.getInt(4);
                    List<String> cols = new ArrayList<>();
                    boolean allNotNull = true;
                    for (int k = 0; k < nkeys; k++) {
                        ColumnInfo col = byAttnum.get(((Number) attnums[k]).intValue());
                        cols.add(col.name());
                        allNotNull &= !col.nullable();
                    }
                    if (rs.getBoolean(2)) {
                        keys.add(new KeyInfo(rs.getString(1), cols, true));
                    } else if (allNotNull) {
                        keys.add(new KeyInfo(rs.getString(1), cols, false));
                    }
                }
            }
        }
        return keys;
    }

    /** The JDBC type of a PostgreSQL type, for connectors that move rows between engines. */
    static int jdbcType(String typname, String category) {
        return switch (typname) {
            case "int2" -> Types.SMALLINT;
            case "int4" -> Types.INTEGER;
            case "int8" -> Types.BIGINT;
            case "float4" -> Types.REAL;
            case "float8" -> Types.DOUBLE;
            case "numeric" -> Types.NUMERIC;
            case "bool" -> Types.BOOLEAN;
            case "text", "varchar", "bpchar", "name", "citext" -> Types.VARCHAR;
            case "bytea" -> Types.BINARY;
            case "date" -> Types.DATE;
            case "time" -> Types.TIME;
            case "timetz" -> Types.TIME_WITH_TIMEZONE;
            case "timestamp" -> Types.TIMESTAMP;
            case "timestamptz" -> Types.TIMESTAMP_WITH_TIMEZONE;
            default -> "A".equals(category) ? Types.ARRAY : Types.OTHER;
        };
    }
}
