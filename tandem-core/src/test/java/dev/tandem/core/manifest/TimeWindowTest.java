package dev.tandem.core.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class TimeWindowTest {
    @Test
    void allowsTheCutoverOnlyFromItsStartToJustBeforeItsEnd() {
        Strategy.TimeWindow w = new Strategy.TimeWindow(Instant.parse("2024-01-15T02:00:00Z"),
                Instant.parse("2024-01-15T04:00:00Z"), false);
        assertThat(w.allows(Instant.parse("2024-01-15T01:59:59Z"))).isFalse();
        assertThat(w.allows(Instant.parse("2024-01-15T02:00:00Z"))).isTrue();
        assertThat(w.allows(Instant.parse("2024-01-15T03:59:59Z"))).isTrue();
        assertThat(w.allows(Instant.parse("2024-01-15T04:00:00Z"))).isFalse();
    }

    @Test
    void anOpenEndAllowsEverythingOnThatSide() {
        assertThat(new Strategy.TimeWindow(null, Instant.parse("2024-01-15T04:00:00Z"), false)
                .allows(Instant.parse("2000-01-01T00:00:00Z"))).isTrue();
        assertThat(new Strategy.TimeWindow(Instant.parse("2024-01-15T02:00:00Z"), null, false)
                .allows(Instant.parse("2100-01-01T00:00:00Z"))).isTrue();
    }
}
