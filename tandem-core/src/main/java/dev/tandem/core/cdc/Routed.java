package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.KeyRange;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One batch as the stream applier routed it: the changes to apply, what TRUNCATEs must spare, fence markers seen. */
final class Routed {
    final List<Change> apply;
    /** Per table, the key ranges a TRUNCATE of it must spare (chunks still copying). */
    final Map<String, List<KeyRange>> keep = new HashMap<>();
    final List<String> markers = new ArrayList<>();

    Routed(int size) {
        this.apply = new ArrayList<>(size);
    }

    /** Forgets the changes and spared ranges (once applied or dropped); the markers stay. */
    void clear() {
        apply.clear();
        keep.clear();
    }

    /** What {@link SourceTransactions} asks of the stream applier for each change. */
    interface Router {
        void route(Change c, Routed into);

        /** Everything of {@code batch} up to index {@code last} (inclusive) is handled: for lag. */
        void handled(int last, List<Change> batch);
    }
}
