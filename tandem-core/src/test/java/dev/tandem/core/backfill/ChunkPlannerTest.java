package dev.tandem.core.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ChunkPlannerTest {

    @Test
    void splitsADenseIntegerKeyIntoEqualWidths() {
        List<List<String>> sample = IntStream.rangeClosed(1, 1000).mapToObj(i -> List.of(String.valueOf(i))).toList();
        assertThat(ChunkPlanner.integerBoundaries(List.of("1"), List.of("1000"), 4, sample))
                .containsExactly(List.of("250"), List.of("500"), List.of("750"));
    }

    @Test
    void handlesZeroNegativeAndExtremeKeys() {
        assertThat(ChunkPlanner.integerBoundaries(List.of("-500"), List.of("500"), 2, List.of()))
                .containsExactly(List.of("-1"));
        List<List<String>> b = ChunkPlanner.integerBoundaries(List.of("-9223372036854775808"),
                List.of("9223372036854775807"), 2, List.of());
        assertThat(b).containsExactly(List.of("-1"));
    }

    @Test
    void splitsARangeThatHoldsMostOfTheSampledKeys() {
        // 100 keys spread over 1..1000, 900 keys packed in 9001..9900: equal widths would put 90% in the last range.
        List<List<String>> sample = new ArrayList<>();
        IntStream.rangeClosed(1, 100).forEach(i -> sample.add(List.of(String.valueOf(i * 10))));
        IntStream.rangeClosed(9001, 9900).forEach(i -> sample.add(List.of(String.valueOf(i))));
        List<List<String>> b = ChunkPlanner.integerBoundaries(List.of("10"), List.of("9900"), 4, sample);
        List<Long> bounds = new ArrayList<>(b.stream().map(x -> Long.parseLong(x.get(0))).toList());
        assertThat(bounds).isSorted().doesNotHaveDuplicates();
        bounds.add(9900L);
        long lower = Long.MIN_VALUE;
        for (long upper : bounds) {
            final long lo = lower;
            long inRange = sample.stream().map(x -> Long.parseLong(x.get(0))).filter(k -> k > lo && k <= upper).count();
            assertThat(inRange).as("sampled keys in (" + lo + ", " + upper + "]").isLessThanOrEqualTo(2 * 1000 / 4);
            lower = upper;
        }
    }

    @Test
    void picksBoundariesAtEvenStepsOfTheDatabaseOrderedSampleWithoutRepeats() {
        List<List<String>> sample = List.of(List.of("a"), List.of("a"), List.of("a"), List.of("b"), List.of("c"),
                List.of("d"), List.of("e"), List.of("f"));
        assertThat(ChunkPlanner.sampledBoundaries(sample, 4)).containsExactly(List.of("a"), List.of("b"), List.of("d"));
        List<List<String>> repeats = List.of(List.of("a"), List.of("a"), List.of("a"), List.of("a"), List.of("a"),
                List.of("b"), List.of("c"), List.of("d"));
        assertThat(ChunkPlanner.sampledBoundaries(repeats, 4)).containsExactly(List.of("a"), List.of("b"));
        assertThat(ChunkPlanner.sampledBoundaries(List.of(), 4)).isEmpty();
        assertThat(ChunkPlanner.sampledBoundaries(List.of(List.of("z")), 3)).as("never the last key").isEmpty();
    }
}
