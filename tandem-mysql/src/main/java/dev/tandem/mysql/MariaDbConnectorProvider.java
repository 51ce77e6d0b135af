package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorProvider;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

/**
 * MariaDB: {@code jdbc:mariadb:} URLs, and {@code jdbc:mysql:} URLs whose server says it is MariaDB. Asked before
 * MySQL's provider (higher priority), as Flyway does.
 */
public final class MariaDbConnectorProvider implements ConnectorProvider {

    @Override
    public String name() {
        return Engine.MARIADB.wire();
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public boolean handlesUrl(String jdbcUrl) {
        return jdbcUrl != null && (jdbcUrl.startsWith("jdbc:mariadb:") || jdbcUrl.startsWith("jdbc:mysql:"));
    }

    @Override
    public boolean handlesServer(DatabaseMetaData md) throws SQLException {
        return md.getDatabaseProductName().toLowerCase(Locale.ROOT).contains("mariadb")
                || md.getDatabaseProductVersion().toLowerCase(Locale.ROOT).contains("mariadb");
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:mariadb:", "jdbc:mysql:");
    }

    @Override
    public Connector create(Endpoint endpoint) {
        return create(endpoint, ColumnTypes.DEFAULT.towards(null));
    }

    @Override
    public Connector create(Endpoint endpoint, ColumnTypes types) {
        return new MySqlConnector(endpoint, Flavor.MARIADB, types);
    }
}
