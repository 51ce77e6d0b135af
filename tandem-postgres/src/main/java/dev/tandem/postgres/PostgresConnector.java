package dev.tandem.postgres;

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

/** The PostgreSQL connector: introspection, preflight and the change log's position, over pgjdbc. */
public final class PostgresConnector implements Connector {
    private final Endpoint endpoint;
    private final PostgresIntrospector introspector = new PostgresIntrospector();

    public PostgresConnector(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public String name() {
        return "postgresql";
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    /**
     * Connects with the endpoint's user and password passed as properties (never in the URL), as application
     * {@code tandem}, with a 10-second connect timeout unless the endpoint's properties say otherwise.
     */
    @Override
    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("ApplicationName", "tandem");
        p.setProperty("connectTimeout", "10");
        p.putAll(endpoint.properties());
        if (endpoint.user() != null) {
            p.setProperty("user", endpoint.user());
        }
        if (endpoint.password() != null) {
            p.setProperty("password", endpoint.password().reveal());
        }
        try {
            return DriverManager.getConnection(endpoint.url(), p);
        } catch (SQLException e) {
            throw scrubbed(e);
        }
    }

    private SQLException scrubbed(SQLException e) {
        String msg = endpoint.scrub(e.getMessage());
        if (msg != null && msg.equals(e.getMessage())) {
            return e;
        }
        return new SQLException(msg, e.getSQLState(), e.getErrorCode());
    }

    @Override
    public ServerInfo serverInfo(Connection c) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        return new ServerInfo("PostgreSQL", md.getDatabaseProductVersion(), md.getDatabaseMajorVersion(),
                md.getDatabaseMinorVersion());
    }

    @Override
    public Introspector introspector() {
        return introspector;
    }

    @Override
    public Preflight preflight() {
        return new PostgresPreflight(introspector);
    }

    @Override
    public Optional<ChangeLog> changeLog() {
        return Optional.of(new PostgresChangeLog());
    }
}
