package dev.tandem.core.plan;

import dev.tandem.core.spi.Finding;
import java.util.List;

/**
 * What preflight found on one endpoint.
 *
 * @param url               redacted
 * @param connector         the connector chosen for it, or null when none could be
 * @param server            product and version, or null when it could not be reached
 * @param changeLogPosition the source's change log position at plan time (LSN, binlog file:offset), or null
 */
public record EndpointReport(String role, String url, String connector, String server, String changeLogPosition,
                             List<Finding> findings) {

    public boolean hasErrors() {
        return findings.stream().anyMatch(Finding::isError);
    }
}
