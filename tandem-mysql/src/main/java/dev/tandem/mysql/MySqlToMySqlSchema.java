package dev.tandem.mysql;

import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code schema: create} between two servers of one flavour (MariaDB → MariaDB, MySQL → MySQL): each table as the
 * source defines it, {@code SHOW CREATE TABLE} run on the target (columns, types, character sets and collations,
 * defaults, generated columns, AUTO_INCREMENT and its next value, indexes, checks, foreign keys, engine and
 * options), in the database of the same name. Indexes and foreign keys come with the table rather than after the data:
 * the statement is the source's own, and loading runs with foreign-key checks off. Between MariaDB and MySQL the
 * dialects differ (collations, JSON, sequences), so that pair is not offered ({@link MySqlConnector#schemaCopier}).
 */
final class MySqlToMySqlSchema implements SchemaCopier {

    @Override
    public List<String> createTables(Connection source, Connection target, List<TableInfo> tables,
                                     boolean deferPrimaryKeys) throws SQLException {
        List<String> done = new ArrayList<>();
        try (Statement st = target.createStatement()) {
            st.execute("SET SESSION foreign_key_checks = 0"); // a child table may come before its parent
        }
        for (TableInfo t : tables) {
            if (exists(target, t.ref())) {
                continue;
            }
            String ddl = showCreate(source, t.ref());
            String head = "CREATE TABLE " + MySqlSql.quote(t.ref().name()) + " (";
            if (!ddl.startsWith(head)) {
                throw new SQLException("SHOW CREATE TABLE " + t.ref().qualified() + " began '" + ddl.substring(0,
                        Math.min(60, ddl.length())) + "', not '" + head + "': create the table on the target yourself "
                        + "and set schema: existing");
            }
            try (Statement st = target.createStatement()) {
                st.execute("CREATE TABLE " + MySqlSql.table(t.ref()) + " (" + ddl.substring(head.length()));
            }
            done.add("created table " + t.ref().qualified());
        }
        return done;
    }

    /** The indexes and foreign keys came with the tables: only the statistics are refreshed. */
    @Override
    public List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables,
                                     int parallelism) throws SQLException {
        List<String> done = new ArrayList<>();
        try (Connection c = target.open(); Statement st = c.createStatement()) {
            for (TableInfo t : tables) {
                try (ResultSet rs = st.executeQuery("ANALYZE TABLE " + MySqlSql.table(t.ref()))) {
                    while (rs.next()) {
                        // ANALYZE answers with rows; reading them ends the statement
                    }
                }
                done.add("analyzed " + t.ref().qualified());
            }
        }
        return done;
    }

    /** The tables with an AUTO_INCREMENT column: their counters are the sequences a cutover moves on. */
    @Override
    public List<String> sequences(Connection c, List<TableInfo> tables) {
        return tables.stream().filter(t -> t.columns().stream().anyMatch(ColumnInfo::identity))
                .map(t -> t.ref().qualified()).toList();
    }

    /**
     * Each table's AUTO_INCREMENT on {@code to} set past the highest value {@code from} gave out (its counter, and the
     * column's maximum where the counter is behind, as after a restart of an old MySQL); never lowered.
     */
    @Override
    public List<String> syncSequences(Connection from, Connection to, List<String> sequences) throws SQLException {
        List<String> done = new ArrayList<>();
        freshStatistics(from);
        freshStatistics(to);
        for (String qualified : sequences) {
            TableRef ref = TableRef.parse(qualified, null);
            done.add(raiseAutoIncrement(to, ref, Math.max(counter(from, ref), 1)));
        }
        return done;
    }

    /** MySQL 8 caches information_schema's AUTO_INCREMENT for a day unless told not to; MariaDB has no cache. */
    static void freshStatistics(Connection c) {
        try (Statement st = c.createStatement()) {
            st.execute("SET SESSION information_schema_stats_expiry = 0");
        } catch (SQLException mariaDb) {
            // no such variable: nothing is cached
        }
    }

    /** Sets the table's AUTO_INCREMENT to {@code next} unless it is there already (never lowered); says which. */
    static String raiseAutoIncrement(Connection c, TableRef ref, long next) throws SQLException {
        long current = counter(c, ref);
        if (next <= current) {
            return ref.qualified() + " AUTO_INCREMENT " + current + " (already past " + next + ")";
        }
        try (Statement st = c.createStatement()) {
            st.execute("ALTER TABLE " + MySqlSql.table(ref) + " AUTO_INCREMENT = " + next);
        }
        return ref.qualified() + " AUTO_INCREMENT " + current + " -> " + next;
    }

    /** The table's AUTO_INCREMENT (the next value it gives out), 0 when the table has none. */
    static long counter(Connection c, TableRef t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT AUTO_INCREMENT FROM information_schema.TABLES "
                + "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    static String showCreate(Connection c, TableRef t) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW CREATE TABLE "
                + MySqlSql.table(t))) {
            if (!rs.next()) {
                throw new SQLException("SHOW CREATE TABLE " + t.qualified() + " returned nothing");
            }
            return rs.getString(2);
        }
    }

    private static boolean exists(Connection c, TableRef t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? "
                + "AND TABLE_NAME = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }
}
