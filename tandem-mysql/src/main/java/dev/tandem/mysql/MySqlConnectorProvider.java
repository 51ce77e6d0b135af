package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorProvider;
import java.util.List;

/** MySQL: {@code jdbc:mysql:} URLs whose server is not MariaDB (MariaDB's provider is asked first). */
public final class MySqlConnectorProvider implements ConnectorProvider {

    @Override
    public String name() {
        return Engine.MYSQL.wire();
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean handlesUrl(String jdbcUrl) {
        return jdbcUrl != null && jdbcUrl.startsWith("jdbc:mysql:");
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:mysql:");
    }

    @Override
    public Connector create(Endpoint endpoint) {
        return create(endpoint, ColumnTypes.DEFAULT.towards(null));
    }

    @Override
    public Connector create(Endpoint endpoint, ColumnTypes types) {
        return new MySqlConnector(endpoint, Flavor.MYSQL, types);
    }
}
