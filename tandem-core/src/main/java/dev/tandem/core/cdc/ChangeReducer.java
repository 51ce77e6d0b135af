package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds a batch of changes, in log order, into at most one change per table and key, so a whole batch can be
 * applied as set operations in any order (group commit). The rules keep the result equal to applying the changes
 * one by one: a whole row or a delete replaces what came before for its key; a partial update merges into the
 * whole row or partial update before it (its values win) and is dropped after a delete (it would update no row). A
 * TRUNCATE drops what came before for its table and is applied first.
 */
public final class ChangeReducer {
    private ChangeReducer() {
    }

    /** One table's share of a batch. */
    public record TableBatch(String table, boolean truncateFirst, List<Change> changes) {
    }

    public static List<TableBatch> reduce(List<Change> changes) {
        Map<String, Map<List<String>, Change>> byTable = new LinkedHashMap<>();
        Map<String, Boolean> truncated = new LinkedHashMap<>();
        for (Change c : changes) {
            switch (c.kind()) {
                case MARKER, COMMIT, SCHEMA -> {
                }
                case TRUNCATE -> {
                    byTable.put(c.table(), new LinkedHashMap<>());
                    truncated.put(c.table(), true);
                }
                default -> {
                    Map<List<String>, Change> rows = byTable.computeIfAbsent(c.table(), t -> new LinkedHashMap<>());
                    rows.merge(c.key(), c, ChangeReducer::fold);
                }
            }
        }
        List<TableBatch> out = new ArrayList<>();
        for (var e : byTable.entrySet()) {
            out.add(new TableBatch(e.getKey(), truncated.getOrDefault(e.getKey(), false),
                    new ArrayList<>(e.getValue().values())));
        }
        return out;
    }

    private static Change fold(Change before, Change after) {
        if (after.kind() != Change.Kind.PARTIAL_UPDATE) {
            return after;
        }
        return switch (before.kind()) {
            case DELETE -> before;
            case UPSERT, PARTIAL_UPDATE -> {
                List<String> cols = new ArrayList<>(before.columns());
                List<String> vals = new ArrayList<>(before.values());
                for (int i = 0; i < after.columns().size(); i++) {
                    int at = cols.indexOf(after.columns().get(i));
                    if (at >= 0) {
                        vals.set(at, after.values().get(i));
                    } else {
                        cols.add(after.columns().get(i));
                        vals.add(after.values().get(i));
                    }
                }
                yield new Change(before.kind(), after.table(), after.key(), cols, vals, after.position(),
                        after.committedAt(), null);
            }
            default -> after;
        };
    }
}
