package dev.tandem.mysql;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.ChangeLog;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Introspector;
import dev.tandem.core.spi.Preflight;
import dev.tandem.core.spi.ServerInfo;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;

/**
 * The MySQL / MariaDB connector over MariaDB Connector/J (LGPL, talks to both servers). {@code jdbc:mysql:} URLs are
 * opened as {@code jdbc:mariadb:}, since that driver takes only its own scheme by default.
 */
final class MySqlConnector implements Connector {
    private final Endpoint endpoint;
    private final Flavor flavor;
    private final MySqlIntrospector introspector = new MySqlIntrospector();

    MySqlConnector(Endpoint endpoint, Flavor flavor) {
        this.endpoint = endpoint;
        this.flavor = flavor;
    }

    @Override
    public String name() {
        return flavor.connectorName;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    @Override
    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("connectTimeout", "10000");
        p.putAll(endpoint.properties());
        if (endpoint.user() != null) {
            p.setProperty("user", endpoint.user());
        }
        if (endpoint.password() != null) {
            p.setProperty("password", endpoint.password().reveal());
        }
        String url = endpoint.url().startsWith("jdbc:mysql:")
                ? "jdbc:mariadb:" + endpoint.url().substring("jdbc:mysql:".length()) : endpoint.url();
        try {
            return DriverManager.getConnection(url, p);
        } catch (SQLException e) {
            String msg = endpoint.scrub(e.getMessage());
            throw msg != null && msg.equals(e.getMessage()) ? e : new SQLException(msg, e.getSQLState(), e.getErrorCode());
        }
    }

    @Override
    public ServerInfo serverInfo(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        return new ServerInfo(flavor == Flavor.MARIADB ? "MariaDB" : "MySQL", md.getDatabaseProductVersion(),
                md.getDatabaseMajorVersion(), md.getDatabaseMinorVersion());
    }

    @Override
    public Introspector introspector() {
        return introspector;
    }

    @Override
    public Preflight preflight() {
        return new MySqlPreflight(flavor, introspector);
    }

    @Override
    public Optional<ChangeLog> changeLog() {
        return Optional.of(new BinlogChangeLog());
    }
}
