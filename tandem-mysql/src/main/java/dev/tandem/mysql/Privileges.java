package dev.tandem.mysql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The current user's privileges from information_schema (USER_, SCHEMA_ and TABLE_PRIVILEGES), which every user may
 * read for itself. Privileges held through roles are not seen; the preflight says so when something is missing.
 * Synonyms are folded: MariaDB's BINLOG MONITOR is REPLICATION CLIENT, REPLICATION REPLICA is REPLICATION SLAVE.
 */
final class Privileges {
    private final String user;
    private final String host;
    private final Set<String> global = new HashSet<>();
    private final Set<String> schema = new HashSet<>();
    private final Set<String> table = new HashSet<>();

    private Privileges(String user, String host) {
        this.user = user;
        this.host = host;
    }

    static Privileges read(Connection c) throws SQLException {
        String current;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT CURRENT_USER()")) {
            rs.next();
            current = rs.getString(1);
        }
        int at = current.lastIndexOf('@');
        Privileges p = new Privileges(at < 0 ? current : current.substring(0, at), at < 0 ? "%" : current.substring(at + 1));
        String grantee = "'" + p.user + "'@'" + p.host + "'";
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 'g', NULL, NULL, PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? "
                        + "UNION ALL SELECT 's', TABLE_SCHEMA, NULL, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
                        + "WHERE GRANTEE = ? UNION ALL SELECT 't', TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE "
                        + "FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?")) {
            ps.setString(1, grantee);
            ps.setString(2, grantee);
            ps.setString(3, grantee);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String priv = normalize(rs.getString(4));
                    switch (rs.getString(1)) {
                        case "g" -> p.global.add(priv);
                        case "s" -> p.schema.add(rs.getString(2).replace("\\", "") + "\0" + priv);
                        default -> p.table.add(rs.getString(2) + "\0" + rs.getString(3) + "\0" + priv);
                    }
                }
            }
        }
        return p;
    }

    static String normalize(String privilege) {
        String p = privilege.toUpperCase(Locale.ROOT).trim();
        return switch (p) {
            case "BINLOG MONITOR" -> "REPLICATION CLIENT";
            case "REPLICATION REPLICA" -> "REPLICATION SLAVE";
            default -> p;
        };
    }

    boolean hasGlobal(String privilege) {
        String p = normalize(privilege);
        return global.contains(p) || (p.equals("REPLICATION CLIENT") && global.contains("SUPER"));
    }

    boolean hasOnTable(String privilege, String db, String tableName) {
        String p = normalize(privilege);
        return global.contains(p) || schema.contains(db + "\0" + p) || table.contains(db + "\0" + tableName + "\0" + p);
    }

    boolean hasOnSchema(String privilege, String db) {
        String p = normalize(privilege);
        return global.contains(p) || schema.contains(db + "\0" + p);
    }

    /** {@code 'migrator'@'%'}, as a GRANT statement names the user. */
    String account() {
        return "'" + user + "'@'" + host + "'";
    }
}
