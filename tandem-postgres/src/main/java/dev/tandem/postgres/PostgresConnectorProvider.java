package dev.tandem.postgres;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorProvider;
import java.util.List;

/** Provides the PostgreSQL connector for {@code jdbc:postgresql:} URLs. */
public final class PostgresConnectorProvider implements ConnectorProvider {

    @Override
    public String name() {
        return Engine.POSTGRESQL.wire();
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean handlesUrl(String jdbcUrl) {
        return jdbcUrl != null && jdbcUrl.startsWith("jdbc:postgresql:");
    }

    @Override
    public List<String> urlPrefixes() {
        return List.of("jdbc:postgresql:");
    }

    @Override
    public Connector create(Endpoint endpoint) {
        return new PostgresConnector(endpoint);
    }
}
