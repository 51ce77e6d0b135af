package dev.tandem.core.spi;

import dev.tandem.core.manifest.Endpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * One database engine's implementation of what Tandem needs from an endpoint. Created by a
 * {@link ConnectorProvider} for one {@link Endpoint}. Introspection and preflight are required; the data-moving
 * capabilities are optional and return {@code Optional.empty()} until a connector implements them (a caller that
 * needs one reports the endpoint as unsupported for that use, it never gets an exception from here).
 */
public interface Connector {

    /** The engine, e.g. {@code postgresql}, {@code mariadb}, {@code mysql}. */
    String name();

    Endpoint endpoint();

    /**
     * Opens a new connection with the endpoint's credentials; the caller closes it. Failures are SQLExceptions the
     * caller classifies with {@link dev.tandem.core.error.SqlErrors}; their messages never contain the password.
     */
    Connection connect() throws SQLException;

    ServerInfo serverInfo(Connection connection) throws SQLException;

    Introspector introspector();

    Preflight preflight();

    /** Reading the change log's position: required before any change stream exists (DESIGN.md point 1). */
    default Optional<ChangeLog> changeLog() {
        return Optional.empty();
    }

    /** Reading key bounds and samples, to split tables into chunks (backfill, verify). */
    default Optional<KeySampler> keySampler() {
        return Optional.empty();
    }

    /**
     * Recreating this endpoint's tables on a target of the connector named {@code targetConnector}
     * ({@code schema: create}, and the sequences of a cutover); empty when this engine cannot create tables there.
     */
    default Optional<SchemaCopier> schemaCopier(String targetConnector) {
        return Optional.empty();
    }

    /** Streaming a key range of a table out (backfill, repair). */
    default Optional<ChunkReader> chunkReader() {
        return Optional.empty();
    }

    /** Loading a key range of a table in one transaction (backfill, repair). */
    default Optional<ChunkWriter> chunkWriter() {
        return Optional.empty();
    }

    /** Streaming the source's changes (CDC; DESIGN.md correctness points 1, 3 and 4). */
    default Optional<ChangeCapture> changeCapture() {
        return Optional.empty();
    }

    /** Applying streamed changes to this endpoint as a target. */
    default Optional<ChangeApplier> changeApplier() {
        return Optional.empty();
    }

    /** Checksums of key ranges computed inside the database (verify). */
    default Optional<Checksums> checksums() {
        return Optional.empty();
    }

    /** Reading rows as JDBC values, for verify between different engines. */
    default Optional<RowReader> rowReader() {
        return Optional.empty();
    }
}
