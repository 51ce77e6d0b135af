package dev.tandem.core.spi;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;

/**
 * Makes {@link Connector}s for one engine. Found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/dev.tandem.core.spi.ConnectorProvider}) and chosen by {@link ConnectorRegistry}: by URL,
 * highest {@link #priority()} first, then, when several take the URL, by what the server says it is.
 */
public interface ConnectorProvider {

    /** The engine name, e.g. {@code postgresql}. */
    String name();

    /**
     * Higher is asked first. MariaDB's provider ranks above MySQL's because {@code jdbc:mysql:} URLs often reach
     * MariaDB servers (Flyway's MariaDBDatabaseType does the same).
     */
    int priority();

    /** Whether this provider may handle the URL. Pure: no I/O. */
    boolean handlesUrl(String jdbcUrl);

    /**
     * Called only when several providers take one URL, on a connection already open: whether the server is this
     * provider's engine. Default: yes.
     */
    default boolean handlesServer(DatabaseMetaData metaData) throws SQLException {
        return true;
    }

    /** URL prefixes this provider takes, for messages ({@code jdbc:postgresql:}). */
    java.util.List<String> urlPrefixes();

    Connector create(Endpoint endpoint);

    /**
     * A connector whose values, leaving this endpoint for the other side of a migration, follow {@code types}
     * ({@link ColumnTypes#towards}: resolved for the other side's engine). Default: {@link #create(Endpoint)}, for an
     * engine whose values need no choice.
     */
    default Connector create(Endpoint endpoint, ColumnTypes types) {
        return create(endpoint);
    }
}
