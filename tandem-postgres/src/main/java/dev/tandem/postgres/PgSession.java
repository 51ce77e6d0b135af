package dev.tandem.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

/**
 * The session settings every connection that moves data uses, so that values leave and return in one exact text
 * form: literals with standard_conforming_strings, timestamps in UTC and ISO style, floats with all their digits,
 * and no statement or idle timeout cutting a long chunk.
 */
final class PgSession {
    /**
     * Driver properties of every connection Tandem opens (the endpoint's own properties win): application name, a
     * 10-second TCP connect timeout, and a 30-second bound on the whole login, TLS handshake included.
     */
    static final Map<String, String> CONNECT = Map.of("ApplicationName", "tandem", "connectTimeout", "10",
            "loginTimeout", "30");

    private PgSession() {
    }

    static void configure(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET standard_conforming_strings = on; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                    + "SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'; "
                    + "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0");
        }
    }
}
