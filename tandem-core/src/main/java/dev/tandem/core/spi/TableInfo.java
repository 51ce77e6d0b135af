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

    /** The chunk key's columns with their types; empty when the table has no usable key. */
    public List<KeyColumn> keyColumns() {
        return chunkKey().map(k -> k.columns().stream()
                .map(c -> new KeyColumn(c, column(c).map(ColumnInfo::nativeType).orElseThrow()))
                .toList()).orElse(List.of());
    }

    /** The columns a copy moves: every column but generated ones, which the target computes itself. */
    public List<String> copiedColumns() {
        return columns.stream().filter(c -> !c.generated()).map(ColumnInfo::name).toList();
    }

    public Optional<ColumnInfo> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
