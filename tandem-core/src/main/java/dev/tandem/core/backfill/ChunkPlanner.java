package dev.tandem.core.backfill;

import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.KeySampler;
import dev.tandem.core.spi.TableInfo;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Splits a table into key ranges of about {@code chunkRows} rows (DESIGN.md point 2). The first range is open
 * below (or starts at the run's --range-min); the last ends at the largest key at plan time, so rows inserted later
 * with larger keys are left to the change stream.
 * <ul>
 *   <li>A single integer key: equal-width ranges over [min, max], then skew correction: a sample of the keys shows
 *       how many rows fall in each range, and a range holding more than twice its share is split again at sampled
 *       keys inside it (ids that cluster, or tables with large gaps).</li>
 *   <li>Any other key (text, uuid, timestamps, composite): boundaries are keys picked at even steps from a sample the
 *       database returns in key order. Nothing is compared in Java, so collations cannot disagree.</li>
 * </ul>
 */
public final class ChunkPlanner {
    /** How many sampled keys per planned chunk, for boundaries and skew checks. */
    static final int SAMPLE_PER_CHUNK = 50;
    /** Samples are capped, so planning a huge table stays quick. */
    static final int MAX_SAMPLE = 200_000;

    private final KeySampler sampler;
    private final int chunkRows;

    public ChunkPlanner(KeySampler sampler, int chunkRows) {
        this.sampler = sampler;
        this.chunkRows = chunkRows;
    }

    /** A planned range and the rows expected in it. */
    public record PlannedChunk(KeyRange range, long estimatedRows) {
    }

    /**
     * @param within the run's --range-min/--range-max restriction (both inclusive), or null for the whole table
     */
    public List<PlannedChunk> plan(Connection source, TableInfo table, KeyRange within) throws SQLException {
        List<KeyColumn> key = table.keyColumns();
        long rows = sampler.estimateRows(source, table, key, within);
        Optional<List<List<String>>> bounds = sampler.bounds(source, table, key, within);
        List<String> lowerStart = within == null ? null : within.lower();
        if (bounds.isEmpty()) {
            // Empty (in the range) now: one chunk, so rows that appear before it runs are still copied.
            return List.of(new PlannedChunk(new KeyRange(key, lowerStart, lowerStart != null,
                    within == null ? null : within.upper()), 0));
        }
        List<String> min = bounds.get().get(0);
        List<String> max = bounds.get().get(1);
        int chunks = (int) Math.min(Integer.MAX_VALUE / 2, Math.max(1, (rows + chunkRows - 1) / chunkRows));
        if (chunks == 1) {
            return List.of(new PlannedChunk(new KeyRange(key, lowerStart, lowerStart != null, max), rows));
        }
        int wanted = (int) Math.min(MAX_SAMPLE, (long) chunks * SAMPLE_PER_CHUNK);
        List<List<String>> sample = sampler.sample(source, table, key, within, rows, wanted);
        List<List<String>> boundaries = key.size() == 1 && key.get(0).isInteger()
                ? integerBoundaries(min, max, chunks, sample)
                : sampledBoundaries(sample, chunks);
        List<PlannedChunk> out = new ArrayList<>();
        List<String> lower = lowerStart;
        boolean inclusive = lowerStart != null;
        long perChunk = Math.max(1, rows / (boundaries.size() + 1));
        for (List<String> b : boundaries) {
            out.add(new PlannedChunk(new KeyRange(key, lower, inclusive, b), perChunk));
            lower = b;
            inclusive = false;
        }
        out.add(new PlannedChunk(new KeyRange(key, lower, inclusive, max), perChunk));
        return out;
    }

    /** Upper bounds at even steps through a sample the database ordered; repeats dropped. */
    static List<List<String>> sampledBoundaries(List<List<String>> sample, int chunks) {
        List<List<String>> out = new ArrayList<>();
        if (sample.isEmpty()) {
            return out;
        }
        for (int i = 1; i < chunks; i++) {
            int at = (int) ((long) i * sample.size() / chunks) - 1;
            if (at < 0) {
                continue;
            }
            List<String> b = sample.get(at);
            if (out.isEmpty() || !out.get(out.size() - 1).equals(b)) {
                out.add(b);
            }
        }
        // The last boundary must leave the final range non-empty in the sample's view.
        if (!out.isEmpty() && out.get(out.size() - 1).equals(sample.get(sample.size() - 1))) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    /**
     * Equal-width upper bounds over [min, max], each range then checked against the sample: one holding more than
     * twice its share of sampled keys is split at sampled keys inside it.
     */
    static List<List<String>> integerBoundaries(List<String> minText, List<String> maxText, int chunks,
                                                List<List<String>> sample) {
        BigInteger min = new BigInteger(minText.get(0));
        BigInteger max = new BigInteger(maxText.get(0));
        BigInteger width = max.subtract(min).add(BigInteger.ONE);
        List<BigInteger> uppers = new ArrayList<>();
        for (int i = 1; i < chunks; i++) {
            BigInteger b = min.add(width.multiply(BigInteger.valueOf(i)).divide(BigInteger.valueOf(chunks)))
                    .subtract(BigInteger.ONE);
            if (b.compareTo(min) >= 0 && b.compareTo(max) < 0 && (uppers.isEmpty() || b.compareTo(last(uppers)) > 0)) {
                uppers.add(b);
            }
        }
        List<BigInteger> keys = sample.stream().map(s -> new BigInteger(s.get(0))).toList();
        if (keys.isEmpty()) {
            return text(uppers);
        }
        double share = (double) keys.size() / (uppers.size() + 1);
        List<BigInteger> corrected = new ArrayList<>();
        BigInteger lower = null;
        List<BigInteger> all = new ArrayList<>(uppers);
        all.add(max);
        for (int i = 0; i < all.size(); i++) {
            BigInteger upper = all.get(i);
            final BigInteger lo = lower;
            List<BigInteger> inside = keys.stream()
                    .filter(k -> (lo == null || k.compareTo(lo) > 0) && k.compareTo(upper) <= 0).toList();
            if (inside.size() > 2 * share) {
                int pieces = (int) Math.ceil(inside.size() / share);
                for (int p = 1; p < pieces; p++) {
                    BigInteger b = inside.get((int) ((long) p * inside.size() / pieces) - 1);
                    if ((corrected.isEmpty() || b.compareTo(last(corrected)) > 0) && b.compareTo(upper) < 0) {
                        corrected.add(b);
                    }
                }
            }
            if (i < all.size() - 1) {
                corrected.add(upper); // the last range ends at max, which is not a boundary
            }
            lower = upper;
        }
        return text(corrected);
    }

    private static BigInteger last(List<BigInteger> l) {
        return l.get(l.size() - 1);
    }

    private static List<List<String>> text(List<BigInteger> bounds) {
        return bounds.stream().map(b -> List.of(b.toString())).toList();
    }
}
