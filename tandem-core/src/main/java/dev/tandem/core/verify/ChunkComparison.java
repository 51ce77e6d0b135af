package dev.tandem.core.verify;

import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.KeyRange;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * The one comparison of a chunk, used by {@code tandem verify} and by continuous verification alike: each side
 * computes the range's count and order-independent checksum; when they differ the chunk is compared row by row — the
 * source's row hashes held in memory (at most a chunk: memory is bounded by the chunk size, never the table), the
 * target's streamed against them. Every row found different is a {@link RowRecheck.Suspect}; what becomes of it (a
 * recheck, a record, a repair) is the caller's.
 */
final class ChunkComparison {
    private ChunkComparison() {
    }

    /**
     * @param matching rows found equal (all of them when the checksums agree)
     * @param suspects rows found different, with the hashes read
     */
    record Result(Checksums.RangeChecksum source, Checksums.RangeChecksum target, long matching,
                  List<RowRecheck.Suspect> suspects) {
        boolean equal() {
            return suspects.isEmpty();
        }
    }

    /**
     * Compares the chunk whose range is {@code sourceRange} on the source and {@code targetRange} (the same keys in
     * the target's types) on the target.
     *
     * @param targetSide a thread for the target's half, so both databases scan at once; null reads the target first,
     *                   then the source, on the caller's thread
     */
    static Result compare(RowRecheck.Side s, RowRecheck.Side t, KeyRange sourceRange, KeyRange targetRange,
                          ExecutorService targetSide) throws SQLException, InterruptedException {
        Checksums.RangeChecksum tc;
        Checksums.RangeChecksum sc;
        if (targetSide == null) {
            tc = t.checksum(targetRange);
            sc = s.checksum(sourceRange);
        } else {
            Future<Checksums.RangeChecksum> there = targetSide.submit(() -> t.checksum(targetRange));
            sc = s.checksum(sourceRange);
            tc = await(there);
        }
        if (sc.equals(tc)) {
            return new Result(sc, tc, sc.rows(), List.of());
        }
        Map<List<String>, Long> sourceRows = new HashMap<>();
        s.rowHashes(sourceRange, sourceRows::put);
        List<RowRecheck.Suspect> suspects = new ArrayList<>();
        long[] matching = {0};
        t.rowHashes(targetRange, (key, hash) -> {
            Long sh = sourceRows.remove(key);
            if (sh == null || sh != hash) {
                suspects.add(new RowRecheck.Suspect(key, sh, hash));
            } else {
                matching[0]++;
            }
        });
        sourceRows.forEach((key, hash) -> suspects.add(new RowRecheck.Suspect(key, hash, null)));
        return new Result(sc, tc, matching[0], suspects);
    }

    /** The result of work on another thread, its SQL and runtime failures rethrown as they were. */
    static <T> T await(Future<T> f) throws SQLException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException se) {
                throw se;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}
