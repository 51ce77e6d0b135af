package dev.tandem.core.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.manifest.FailureHandling;
import dev.tandem.core.store.KeyJson;
import java.io.EOFException;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackfillPartsTest {

    @Test
    void retriesTransientErrorsUnderEveryPolicyAndOthersOnlyUnderRetryThenAll() {
        FailurePolicy rollback = new FailurePolicy(FailureHandling.DEFAULT);
        SQLException lost = new SQLException("connection lost", "08006");
        SQLException constraint = new SQLException("duplicate key", "23505");
        assertThat(rollback.retry(lost, 0)).isTrue();
        assertThat(rollback.retry(lost, 2)).isTrue();
        assertThat(rollback.retry(lost, 3)).isFalse();
        assertThat(rollback.retry(new RuntimeException(new EOFException()), 0)).isTrue();
        assertThat(rollback.retry(constraint, 0)).isFalse();
        assertThat(rollback.partial()).isFalse();

        FailurePolicy retry = new FailurePolicy(new FailureHandling(FailureHandling.Type.RETRY_THEN_ALL, 5));
        assertThat(retry.retry(constraint, 4)).isTrue();
        assertThat(retry.retry(constraint, 5)).isFalse();
        assertThat(retry.retry(lost, 4)).as("retry_count above 3 raises the transient limit too").isTrue();

        assertThat(new FailurePolicy(new FailureHandling(FailureHandling.Type.ALLOW_PARTIAL, 0)).partial()).isTrue();
        assertThat(rollback.backoff(0).toMillis()).isEqualTo(500);
        assertThat(rollback.backoff(1).toMillis()).isEqualTo(1000);
        assertThat(rollback.backoff(30).toMillis()).isEqualTo(10_000);
    }

    @Test
    void keepsKeyBoundsAsJsonAndReadsOperatorValues() {
        assertThat(KeyJson.write(List.of("a\"b", "1"))).isEqualTo("[\"a\\\"b\",\"1\"]");
        assertThat(KeyJson.read(KeyJson.write(List.of("x", "it's")))).containsExactly("x", "it's");
        assertThat(KeyJson.read(null)).isNull();
        assertThat(KeyJson.parseOperatorValue(" 100 ", 1, "--range-min")).containsExactly("100");
        assertThat(KeyJson.parseOperatorValue("[\"eu\", 7]", 2, "--range-min")).containsExactly("eu", "7");
        assertThatThrownBy(() -> KeyJson.parseOperatorValue("100", 2, "--range-min"))
                .hasMessage("--range-min 100 is one value, but the key has 2 columns; give a JSON array like '[\"a\", 3]'");
        assertThatThrownBy(() -> KeyJson.parseOperatorValue("[1, 2, 3]", 2, "--range-max"))
                .hasMessageContaining("has 3 values; the key has 2 columns");
        assertThatThrownBy(() -> KeyJson.parseOperatorValue("[1,", 2, "--range-max"))
                .hasMessageContaining("is not a JSON array");
    }

    @Test
    void throttleCountsRowsAgainstItsRateAndCanBeLifted() throws Exception {
        Throttle t = new Throttle(0);
        t.acquire(1_000_000);
        assertThat(t.rate()).isZero();
        t.setRate(-5);
        assertThat(t.rate()).as("a negative rate means no limit, never a negative one").isZero();

        // At 1 row/s a caller owing a million rows would wait for ever; lifting the limit releases it.
        Throttle slow = new Throttle(1);
        Thread caller = new Thread(() -> {
            try {
                slow.acquire(1_000_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        caller.start();
        Thread.sleep(300);
        assertThat(caller.isAlive()).as("held by the limit").isTrue();
        slow.setRate(0);
        caller.join(5_000);
        assertThat(caller.isAlive()).as("released once the limit is lifted").isFalse();
    }
}
