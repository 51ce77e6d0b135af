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
 * @param resuming     the migration ran before, so target tables it created exist and may hold rows
 */
public record PreflightRequest(Role role, Manifest manifest, List<TableInfo> sourceTables,
                               Map<TableRef, TableRef> targetTables, boolean resuming) {
    public PreflightRequest {
        sourceTables = List.copyOf(sourceTables);
        targetTables = Map.copyOf(targetTables);
    }
}
