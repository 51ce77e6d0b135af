package dev.tandem.mysql;

import dev.tandem.core.spi.ChangeLog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The binary log's position as {@code file:offset} ({@code mysql-bin.000003:4567}). */
final class BinlogChangeLog implements ChangeLog {

    @Override
    public String positionKind() {
        return "binlog";
    }

    /**
     * {@code SHOW MASTER STATUS}, or {@code SHOW BINARY LOG STATUS} on MySQL 8.4+ where the old statement is gone.
     * Null when the binary log is off.
     */
    @Override
    public String currentPosition(Connection c) throws SQLException {
        try {
            return read(c, "SHOW MASTER STATUS");
        } catch (SQLException e) {
            if (e.getErrorCode() != 1064) {
                throw e;
            }
            return read(c, "SHOW BINARY LOG STATUS");
        }
    }

    private static String read(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) + ":" + rs.getLong(2) : null;
        }
    }
}
