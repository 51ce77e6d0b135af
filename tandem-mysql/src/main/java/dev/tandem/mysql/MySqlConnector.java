package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChunkWriter;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.ChangeLog;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.Connections;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.Introspector;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.Preflight;
import dev.tandem.core.spi.RowReader;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.ServerInfo;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Map;

/**
 * The MySQL / MariaDB connector over MariaDB Connector/J (LGPL, talks to both servers). {@code jdbc:mysql:} URLs are
 * opened as {@code jdbc:mariadb:}, since that driver takes only its own scheme by default.
 */
final class MySqlConnector implements Connector {
    private final Endpoint endpoint;
    private final Flavor flavor;
    private final MySqlIntrospector introspector;
    /** How values leaving this server are written for the other side (resolved: {@link ColumnTypes#towards}). */
    private final ColumnTypes types;

    MySqlConnector(Endpoint endpoint, Flavor flavor, ColumnTypes types) {
        this.endpoint = endpoint;
        this.flavor = flavor;
        this.types = types;
        this.introspector = new MySqlIntrospector(flavor);
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
        String url = endpoint.url().startsWith("jdbc:mysql:")
                ? "jdbc:mariadb:" + endpoint.url().substring("jdbc:mysql:".length()) : endpoint.url();
        return Connections.open(endpoint, url, Map.of("connectTimeout", "10000"));
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

    @Override
    public Optional<ChangeCapture> changeCapture() {
        return Optional.of(new BinlogChangeCapture(endpoint, flavor, types));
    }

    @Override
    public Optional<KeySampler> keySampler() {
        return Optional.of(new MySqlKeySampler());
    }

    @Override
    public Optional<ChunkReader> chunkReader() {
        return Optional.of(new MySqlChunkReader(types));
    }

    /**
     * Onto PostgreSQL through the type mapping ({@link MySqlToPostgresSchema}); onto a server of the same flavour as
     * the source defines it ({@link MySqlToMySqlSchema}); not between MariaDB and MySQL, whose dialects differ.
     */
    @Override
    public Optional<SchemaCopier> schemaCopier(String targetConnector) {
        Engine target = Engine.of(targetConnector).orElse(null);
        if (target == Engine.POSTGRESQL) {
            return Optional.of(new MySqlToPostgresSchema(types));
        }
        return targetConnector.equals(flavor.connectorName) ? Optional.of(new MySqlToMySqlSchema()) : Optional.empty();
    }

    @Override
    public Optional<ChunkWriter> chunkWriter() {
        return Optional.of(new MySqlChunkWriter());
    }

    @Override
    public Optional<ChangeApplier> changeApplier() {
        return Optional.of(new MySqlChangeApplier());
    }

    @Override
    public Optional<RowReader> rowReader() {
        return Optional.of(new MySqlRowReader(types.zeroDatesOrRefuse()));
    }
}
