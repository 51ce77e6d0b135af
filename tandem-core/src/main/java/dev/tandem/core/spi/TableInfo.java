package dev.tandem.core.spi;

import java.util.List;
import java.util.Optional;

/**
 * A table's shape: its columns in order, its primary key and its non-null unique keys, and the database's size
 * estimates (statistics, not counts: cheap to read, possibly stale).
 */
public record TableInfo(TableRef ref, List<ColumnInfo> columns, KeyInfo primaryKey, List<KeyInfo> uniqueKeys,
                        long estimatedRows, long estimatedBytes) {

    public TableInfo {
        columns = List.copyOf(columns);
        uniqueKeys = List.copyOf(uniqueKeys);
    }

    /** The key chunks are split on and changes are applied by: the primary key, else the first non-null unique key. */
    public Optional<KeyInfo> chunkKey() {
        if (primaryKey != null) {
            return Optional.of(primaryKey);
        }
        return uniqueKeys.stream().findFirst();
    }

    public Optional<ColumnInfo> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
