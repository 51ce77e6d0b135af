package dev.tandem.core.plan;

import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.KeyJson;
import java.util.List;

/**
 * One table of a backfill: its shape on both sides, the columns that move (generated ones are left to the target)
 * and the format they travel in.
 */
public record TableJob(TableInfo source, TableInfo target, List<String> columns, CopyFormat format) {

    public String name() {
        return source.ref().qualified();
    }

    /** The chunk's range in the source's key types. */
    public KeyRange sourceRange(ChunkRecord chunk) {
        return range(source.keyColumns(), chunk);
    }

    /** The chunk's range in the target's key types (which may be wider, e.g. integer to bigint). */
    public KeyRange targetRange(ChunkRecord chunk) {
        List<KeyColumn> key = source.keyColumns().stream()
                .map(k -> new KeyColumn(k.name(), target.column(k.name()).orElseThrow().nativeType())).toList();
        return range(key, chunk);
    }

    private static KeyRange range(List<KeyColumn> key, ChunkRecord chunk) {
        return new KeyRange(key, KeyJson.read(chunk.keyMin()), chunk.keyMinInclusive(), KeyJson.read(chunk.keyMax()));
    }
}
