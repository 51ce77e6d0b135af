package dev.tandem.core.manifest;

import java.util.List;
import java.util.Optional;

/**
 * Seed 000's {@code conflict_resolution}: what wins when the same row was changed on both sides. Either a strategy
 * name, or {@code {default, timestamp_column, overrides: [{table, strategy, timestamp_column, merge_class}]}}.
 */
public record ConflictResolution(Strategy defaultStrategy, String timestampColumn, String mergeClass,
                                 List<Override> overrides) {
    public static final ConflictResolution DEFAULT = new ConflictResolution(Strategy.SOURCE_WINS, null, null, List.of());

    public ConflictResolution {
        overrides = List.copyOf(overrides);
    }

    public enum Strategy {
        SOURCE_WINS,
        TARGET_WINS,
        /** Compare a timestamp column; the newer row wins. */
        NEWEST_WINS,
        /** Queue the conflict for a human. */
        MANUAL,
        /** A class implementing the merge SPI decides. */
        CUSTOM
    }

    /** A per-table override. */
    public record Override(String table, Strategy strategy, String timestampColumn, String mergeClass) {
    }

    /** The override for a table name as written in the manifest, if any. */
    public Optional<Override> forTable(String table) {
        return overrides.stream().filter(o -> o.table().equals(table)).findFirst();
    }
}
