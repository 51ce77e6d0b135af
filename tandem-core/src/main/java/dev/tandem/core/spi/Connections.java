package dev.tandem.core.spi;

import dev.tandem.core.manifest.Endpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;

/** Opening a JDBC connection to an endpoint, the same way for every connector. */
public final class Connections {
    private Connections() {
    }

    /**
     * Connects to {@code url} with the endpoint's user and password passed as driver properties (never in the URL),
     * over the connector's {@code defaults} and then the endpoint's own {@code properties}. A failure's message has
     * the password scrubbed out, whatever the driver put in it.
     */
    public static Connection open(Endpoint endpoint, String url, Map<String, String> defaults) throws SQLException {
        Properties p = new Properties();
        p.putAll(defaults);
        p.putAll(endpoint.properties());
        if (endpoint.user() != null) {
            p.setProperty("user", endpoint.user());
        }
        if (endpoint.password() != null) {
            p.setProperty("password", endpoint.password().reveal());
        }
        try {
            return DriverManager.getConnection(url, p);
        } catch (SQLException e) {
            String msg = endpoint.scrub(e.getMessage());
            if (msg == null || msg.equals(e.getMessage())) {
                throw e;
            }
            SQLException scrubbed = new SQLException(msg, e.getSQLState(), e.getErrorCode());
            scrubbed.setNextException(e.getNextException());
            throw scrubbed;
        }
    }
}
