package dev.tandem.core.migrate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.AbortThresholds;
import org.junit.jupiter.api.Test;

class AbortWatchTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void driftRowsCrossWhenAboveTheLimit() {
        AbortWatch w = new AbortWatch(new AbortThresholds(null, 2L, null, null));
        assertThat(w.check(0, 2, 0, 0, 0)).isEmpty();
        AbortWatch.Crossing c = w.check(SECOND, 3, 0, 0, 0).orElseThrow();
        assertThat(c.describe()).isEqualTo("abort threshold drift_rows crossed: 3 > limit 2");
    }

    @Test
    void zeroDriftRowsAbortsOnTheFirstRowAndMinusOneMeansNotMeasured() {
        AbortWatch w = new AbortWatch(new AbortThresholds(null, 0L, null, null));
        assertThat(w.check(0, -1, 0, 0, 0)).isEmpty();
        assertThat(w.check(0, 1, 0, 0, 0)).isPresent();
    }

    @Test
    void lagSecondsCross() {
        AbortWatch w = new AbortWatch(new AbortThresholds(300.0, null, null, null));
        assertThat(w.check(0, 0, 300, 0, 0)).isEmpty();
        assertThat(w.check(0, 0, 300.5, 0, 0).orElseThrow().describe())
                .isEqualTo("abort threshold lag_seconds crossed: 300.5 > limit 300");
    }

    @Test
    void errorRateCountsTheLastMinuteOnlyAndNeedsEnoughAttempts() {
        AbortWatch w = new AbortWatch(new AbortThresholds(null, null, null, 0.01));
        // two failures in three attempts at start-up: too few attempts to judge
        assertThat(w.check(0, 0, 0, 0, 0)).isEmpty();
        assertThat(w.check(SECOND, 0, 0, 3, 2)).isEmpty();
        // a calm hour: 10,000 attempts, those 2 failures
        assertThat(w.check(3600 * SECOND, 0, 0, 10_003, 2)).isEmpty();
        // then 5 failures in the next 100 attempts within the minute: 5 %
        AbortWatch.Crossing c = w.check(3630 * SECOND, 0, 0, 10_103, 7).orElseThrow();
        assertThat(c.threshold()).isEqualTo("error_rate");
        assertThat(c.value()).isEqualTo(0.05);
    }

    @Test
    void shadowMismatchRateCrossesOnlyWhenMeasured() {
        AbortWatch w = new AbortWatch(new AbortThresholds(null, null, 0.001, null));
        assertThat(w.checkShadowReads(Double.NaN)).isEmpty();
        assertThat(w.checkShadowReads(0.001)).isEmpty();
        assertThat(w.checkShadowReads(0.05).orElseThrow().describe())
                .isEqualTo("abort threshold shadow_mismatch_rate crossed: 0.05000 > limit 0.001000");
        assertThat(new AbortWatch(AbortThresholds.NONE).checkShadowReads(1.0)).isEmpty();
    }
}
