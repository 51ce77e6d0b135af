package dev.tandem.postgres;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.ChangeLog;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.ChunkWriter;
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

/** The PostgreSQL connector: introspection, preflight and the change log's position, over pgjdbc. */
public final class PostgresConnector implements Connector {
    private final Endpoint endpoint;
    private final PostgresIntrospector introspector = new PostgresIntrospector();

    public PostgresConnector(Endpoint endpoint) {
        this.endpoint = endpoint;
    }

    @Override
    public String name() {
        return Engine.POSTGRESQL.wire();
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    /**
     * Connects as application {@code tandem}, with a 10-second TCP connect timeout and a 30-second bound on the whole
     * login, unless the endpoint says otherwise: a host that accepts the connection and never answers (a firewall
     * swallowing packets, a hung server) otherwise held {@code plan} and {@code migrate} forever.
     */
    @Override
    public Connection connect() throws SQLException {
        return Connections.open(endpoint, endpoint.url(), PgSession.CONNECT);
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

    @Override
    public Optional<ChangeCapture> changeCapture() {
        return Optional.of(new PostgresChangeCapture(endpoint));
    }

    @Override
    public Optional<ChangeApplier> changeApplier() {
        return Optional.of(new PostgresChangeApplier());
    }

    @Override
    public Optional<Checksums> checksums() {
        return Optional.of(new PostgresChecksums());
    }

    @Override
    public Optional<RowReader> rowReader() {
        return Optional.of(new PostgresRowReader());
    }

    @Override
    public Optional<KeySampler> keySampler() {
        return Optional.of(new PostgresKeySampler());
    }

    @Override
    public Optional<SchemaCopier> schemaCopier(String targetConnector) {
        return Engine.of(targetConnector).filter(e -> e == Engine.POSTGRESQL).map(e -> new PostgresSchemaCopier());
    }

    @Override
    public Optional<ChunkReader> chunkReader() {
        return Optional.of(new PostgresChunkReader());
    }

    @Override
    public Optional<ChunkWriter> chunkWriter() {
        return Optional.of(new PostgresChunkWriter());
    }
}
