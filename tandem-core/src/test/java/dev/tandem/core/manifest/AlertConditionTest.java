package dev.tandem.core.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AlertConditionTest {

    @Test
    void comparesAMetricWithANumber() throws Exception {
        AlertCondition c = AlertCondition.parse("lag_seconds > 300");
        assertThat(c.test(Map.of("lag_seconds", 300.5))).isTrue();
        assertThat(c.test(Map.of("lag_seconds", 300.0))).isFalse();
        assertThat(c.test(Map.of())).as("an unknown value never fires").isFalse();
        assertThat(c.metrics()).containsExactly("lag_seconds");
    }

    @Test
    void andBindsTighterThanOrAndParenthesesGroup() throws Exception {
        AlertCondition c = AlertCondition.parse("drift_rows >= 1 or lag_seconds > 60 and error_rate > 0.01");
        assertThat(c.test(Map.of("drift_rows", 1.0, "lag_seconds", 0.0, "error_rate", 0.0))).isTrue();
        assertThat(c.test(Map.of("drift_rows", 0.0, "lag_seconds", 61.0, "error_rate", 0.0))).isFalse();
        AlertCondition g = AlertCondition.parse("(drift_rows >= 1 || lag_seconds > 60) && error_rate > 0.01");
        assertThat(g.test(Map.of("drift_rows", 1.0, "lag_seconds", 0.0, "error_rate", 0.0))).isFalse();
        assertThat(g.test(Map.of("drift_rows", 1.0, "lag_seconds", 0.0, "error_rate", 0.02))).isTrue();
        assertThat(g.metrics()).containsExactly("drift_rows", "error_rate", "lag_seconds");
    }

    @Test
    void explainsWhatIsWrong() {
        assertThatThrownBy(() -> AlertCondition.parse("")).hasMessageContaining("is empty");
        assertThatThrownBy(() -> AlertCondition.parse("lag_seconds >")).hasMessage("ends early; expected a number");
        assertThatThrownBy(() -> AlertCondition.parse("lag_seconds > lots")).hasMessageContaining("'lots' is not a number");
        assertThatThrownBy(() -> AlertCondition.parse("(lag_seconds > 1")).hasMessage("missing ')'");
        assertThatThrownBy(() -> AlertCondition.parse("lag_seconds > 1 drift_rows > 0"))
                .hasMessageContaining("join comparisons with and / or");
        assertThatThrownBy(() -> AlertCondition.parse("lag_seconds > 1; drop")).hasMessageContaining("unexpected character ';'");
    }
}
