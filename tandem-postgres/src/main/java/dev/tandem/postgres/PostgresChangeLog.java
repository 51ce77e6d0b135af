package dev.tandem.postgres;

import dev.tandem.core.spi.ChangeLog;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** PostgreSQL's write-ahead log position, as an LSN ({@code 0/16B3748}). */
final class PostgresChangeLog implements ChangeLog {

    @Override
    public String positionKind() {
        return "lsn";
    }

    @Override
    public String currentPosition(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
