package dev.tandem.core.migrate;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.verify.ContinuousVerifier;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One sample of the figures a running migration is judged by, taken about once a second by the process running it:
 * abort thresholds ({@link AbortWatch}) and alert rules ({@link AlertWatch}) look at the same sample.
 *
 * @param lag            the stream's newest lag sample, or null (no stream, or none taken yet)
 * @param driftRows      confirmed unrepaired drift, or -1 when nothing verifies continuously
 * @param attempts       target transactions the stream attempted so far
 * @param failedAttempts of those, failed
 * @param chunksFailed   the copy's chunks in FAIL, or -1 outside the copy
 * @param shadowMismatchRate the routers' mismatched shadow reads over compared ones, NaN while too few were compared
 */
record Figures(LagSample lag, long driftRows, long attempts, long failedAttempts, long chunksFailed,
               double shadowMismatchRate) {
    static final long NONE = -1;
    /** Shadow reads compared before their mismatch rate counts. */
    static final long MIN_SHADOW_READS = 20;

    /** During catch-up: the stream, continuous verification (null when off), the routers' shadow reads. */
    static Figures streaming(ChangeStreamRunner stream, ContinuousVerifier verifier, double shadowMismatchRate) {
        return new Figures(stream.lastSample(), verifier == null ? NONE : verifier.driftRows(),
                stream.applier().attempts(), stream.applier().failedAttempts(), NONE, shadowMismatchRate);
    }

    /** During the copy: the stream running alongside (null without change data capture) and the failed chunks. */
    static Figures copying(ChangeStreamRunner stream, long chunksFailed) {
        return new Figures(stream == null ? null : stream.lastSample(), NONE, 0, 0, chunksFailed, Double.NaN);
    }

    /** Whether an abort threshold is crossed now. */
    Optional<AbortWatch.Crossing> crossed(AbortWatch watch, long nowNanos) {
        return watch.check(nowNanos, driftRows, lag == null ? -1 : lag.seconds(), attempts, failedAttempts)
                .or(() -> watch.checkShadowReads(shadowMismatchRate));
    }

    /**
     * The values alert conditions name ({@code lag_seconds}, {@code drift_rows}, ...); a figure not measured now is
     * left out, so a rule on it keeps its state.
     */
    Map<String, Double> alertValues(double errorRate) {
        Map<String, Double> values = new HashMap<>();
        if (lag != null) {
            values.put("lag_seconds", lag.seconds());
            values.put("lag_records", (double) lag.records());
            values.put("lag_bytes", (double) lag.bytes());
        }
        if (driftRows != NONE) {
            values.put("drift_rows", (double) driftRows);
        }
        if (!Double.isNaN(errorRate)) {
            values.put("error_rate", errorRate);
        }
        if (!Double.isNaN(shadowMismatchRate)) {
            values.put("shadow_mismatch_rate", shadowMismatchRate);
        }
        if (chunksFailed != NONE) {
            values.put("chunks_failed", (double) chunksFailed);
        }
        return values;
    }
}
