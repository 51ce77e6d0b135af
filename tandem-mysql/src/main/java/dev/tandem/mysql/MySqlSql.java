package dev.tandem.mysql;

import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/**
 * SQL text for MySQL / MariaDB: quoted names, and key ranges as row comparisons whose values are bound parameters
 * (strings the server converts to the key column's type, so no literal is ever spliced into SQL).
 */
final class MySqlSql {
    private MySqlSql() {
    }

    static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    static String table(TableRef t) {
        return t.schema() == null || t.schema().isEmpty() ? quote(t.name()) : quote(t.schema()) + "." + quote(t.name());
    }

    static String columns(List<String> names) {
        return names.stream().map(MySqlSql::quote).collect(Collectors.joining(", "));
    }

    static String tuple(List<KeyColumn> key) {
        String cols = columns(key.stream().map(KeyColumn::name).toList());
        return key.size() == 1 ? cols : "(" + cols + ")";
    }

    static String placeholders(int n) {
        String p = String.join(", ", Collections.nCopies(n, "?"));
        return n == 1 ? p : "(" + p + ")";
    }

    /** A WHERE clause (or nothing) for the range; its parameters, in order, are added to {@code params}. */
    static String where(KeyRange r, List<String> params) {
        String p = predicate(r, params);
        return p.equals("TRUE") ? "" : " WHERE " + p;
    }

    /** The range as a condition ({@code TRUE} for the whole table); its parameters are added to {@code params}. */
    static String predicate(KeyRange r, List<String> params) {
        List<String> parts = new ArrayList<>();
        if (r != null && r.lower() != null) {
            parts.add(tuple(r.columns()) + (r.lowerInclusive() ? " >= " : " > ") + placeholders(r.columns().size()));
            params.addAll(r.lower());
        }
        if (r != null && r.upper() != null) {
            parts.add(tuple(r.columns()) + " <= " + placeholders(r.columns().size()));
            params.addAll(r.upper());
        }
        return parts.isEmpty() ? "TRUE" : String.join(" AND ", parts);
    }

    static String orderBy(List<KeyColumn> key, boolean descending) {
        return key.stream().map(k -> quote(k.name()) + (descending ? " DESC" : "")).collect(Collectors.joining(", "));
    }

    static PreparedStatement prepare(Connection c, String sql, List<String> params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < params.size(); i++) {
            ps.setString(i + 1, params.get(i));
        }
        return ps;
    }

    /**
     * A session that writes to a MySQL / MariaDB target: {@link #configure}, and an SQL mode of its own whatever the
     * server's default: strict (a value the column cannot hold is an error, not a silently cut or zeroed one),
     * NO_AUTO_VALUE_ON_ZERO (a copied 0 in an AUTO_INCREMENT column stays 0 rather than taking the next number), zero
     * dates allowed (the source had them); foreign-key checks off, as rows of a parent may arrive after its children.
     */
    static void configureWriting(Connection c) throws SQLException {
        configure(c);
        try (Statement st = c.createStatement()) {
            st.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', "
                    + "SESSION foreign_key_checks = 0");
        }
    }

    /** Values leave in UTC (TIMESTAMP columns are converted to the session's zone) and in full UTF-8. */
    static void configure(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET time_zone = '+00:00', NAMES utf8mb4");
        }
    }
}
