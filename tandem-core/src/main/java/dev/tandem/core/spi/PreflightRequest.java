package dev.tandem.core.spi;

import dev.tandem.core.manifest.Manifest;
import java.util.List;
import java.util.Map;

/**
 * What a preflight checks an endpoint for.
 *
 * @param role         the side the endpoint plays
 * @param manifest     the migration (cdc method, schema mode, conflict rules...)
 * @param sourceTables the tables in scope as described on the source, keyed by the source's table
 * @param targetTables for the target role: each source table's counterpart on the target (same name)
 */
public record PreflightRequest(Role role, Manifest manifest, List<TableInfo> sourceTables,
                               Map<TableRef, TableRef> targetTables) {
    public PreflightRequest {
        sourceTables = List.copyOf(sourceTables);
        targetTables = Map.copyOf(targetTables);
    }
}
