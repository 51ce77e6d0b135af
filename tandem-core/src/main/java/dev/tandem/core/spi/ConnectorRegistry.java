package dev.tandem.core.spi;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.JdbcUrls;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** The connectors on the class path, and the choice of one for an endpoint. */
public final class ConnectorRegistry {
    private final List<ConnectorProvider> providers;

    public ConnectorRegistry(List<ConnectorProvider> providers) {
        List<ConnectorProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(ConnectorProvider::priority).reversed()
                .thenComparing(ConnectorProvider::name));
        this.providers = List.copyOf(sorted);
    }

    /** Every provider {@link ServiceLoader} finds. */
    public static ConnectorRegistry load() {
        List<ConnectorProvider> found = new ArrayList<>();
        ServiceLoader.load(ConnectorProvider.class, ConnectorRegistry.class.getClassLoader()).forEach(found::add);
        return new ConnectorRegistry(found);
    }

    public List<ConnectorProvider> providers() {
        return providers;
    }

    /** The providers that take the URL, highest priority first. */
    public List<ConnectorProvider> candidates(String jdbcUrl) {
        return providers.stream().filter(p -> p.handlesUrl(jdbcUrl)).toList();
    }

    /**
     * The connector for an endpoint. When one provider takes the URL it is chosen without connecting; when several
     * do, the server is asked what it is (one connection, opened and closed here).
     *
     * @param at where the endpoint is in the manifest ({@code source}), for the message
     * @throws TandemException BAD_INPUT when no provider takes the URL
     * @throws SQLException    when the server had to be asked and could not be reached
     */
    public Connector select(Endpoint endpoint, String at) throws SQLException {
        return select(endpoint, at, ColumnTypes.DEFAULT.towards(null));
    }

    /** {@link #select(Endpoint, String)}, the connector's values following {@code types} (already resolved). */
    public Connector select(Endpoint endpoint, String at, ColumnTypes types) throws SQLException {
        List<ConnectorProvider> candidates = candidates(endpoint.url());
        if (candidates.isEmpty()) {
            TreeSet<String> prefixes = new TreeSet<>();
            providers.forEach(p -> prefixes.addAll(p.urlPrefixes()));
            throw TandemException.badInput(at + ".url: '" + JdbcUrls.redact(endpoint.url()) + "' is not supported; "
                    + "use a URL starting with " + String.join(", ", prefixes));
        }
        if (candidates.size() == 1) {
            return candidates.get(0).create(endpoint, types);
        }
        Connector first = candidates.get(0).create(endpoint, types);
        try (Connection c = first.connect()) {
            for (ConnectorProvider p : candidates) {
                if (p.handlesServer(c.getMetaData())) {
                    return p == candidates.get(0) ? first : p.create(endpoint, types);
                }
            }
        }
        return candidates.get(candidates.size() - 1).create(endpoint, types);
    }
}
