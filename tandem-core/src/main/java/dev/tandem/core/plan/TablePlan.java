package dev.tandem.core.plan;

import java.util.List;

/**
 * What the migration would do with one table.
 *
 * @param estimatedRows  from the source's statistics; -1 when the table was never analyzed
 * @param key            the chunk key's columns; empty when the table has none (then it cannot move)
 * @param keyKind        {@code primary key}, {@code unique key NAME}, or {@code none}
 * @param targetAction   {@code create}, {@code use existing (empty)}, {@code validate existing}, or {@code blocked}
 */
public record TablePlan(String table, long estimatedRows, long estimatedBytes, List<String> key, String keyKind,
                        long estimatedChunks, String targetAction) {
}
