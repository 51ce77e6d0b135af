package dev.tandem.core.migrate;

import dev.tandem.core.manifest.AbortThresholds;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Optional;

/**
 * Evaluates the manifest's {@code abort_thresholds} on the figures of a streaming migration (seed 001's abort
 * criteria): drift rows confirmed and not repaired, lag in seconds, and the error rate of the stream's target
 * transactions over the last minute (failed attempts / attempts, only once a minute holds at least
 * {@link #MIN_ATTEMPTS} attempts, so two failures out of three at start-up do not abort), and the routers' shadow-read
 * mismatch rate ({@link #checkShadowReads}). A threshold is crossed when
 * the value is above the limit: {@code drift_rows: 0} aborts on the first drifting row. Pure; one instance per
 * stream, fed about once a second.
 */
public final class AbortWatch {
    static final int MIN_ATTEMPTS = 20;
    private static final long WINDOW_NANOS = 60_000_000_000L;

    /** A crossed threshold: its manifest name, the value seen and the limit. */
    public record Crossing(String threshold, double value, double limit) {
        public String describe() {
            return String.format(Locale.ROOT, "abort threshold %s crossed: %s > limit %s", threshold, show(value),
                    show(limit));
        }

        private static String show(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d)
                    : String.format(Locale.ROOT, "%.4g", d);
        }
    }

    private record Point(long nanos, long attempts, long failures) {
    }

    private final AbortThresholds limits;
    private final Deque<Point> points = new ArrayDeque<>();
    private double errorRate = Double.NaN;

    public AbortWatch(AbortThresholds limits) {
        this.limits = limits;
    }

    /**
     * @param driftRows confirmed unrepaired drift, or -1 when nothing verifies continuously
     * @param lagSeconds the newest lag sample's seconds, or -1 before the first
     * @param attempts  target transactions attempted so far (cumulative)
     * @param failures  of those, failed (cumulative)
     */
    public Optional<Crossing> check(long nowNanos, long driftRows, double lagSeconds, long attempts, long failures) {
        if (limits.driftRows() != null && driftRows > limits.driftRows()) {
            return Optional.of(new Crossing("drift_rows", driftRows, limits.driftRows()));
        }
        if (limits.lagSeconds() != null && lagSeconds > limits.lagSeconds()) {
            return Optional.of(new Crossing("lag_seconds", lagSeconds, limits.lagSeconds()));
        }
        points.addLast(new Point(nowNanos, attempts, failures));
        while (points.size() > 1 && nowNanos - points.peekFirst().nanos() > WINDOW_NANOS) {
            points.removeFirst();
        }
        Point first = points.peekFirst();
        long a = attempts - first.attempts();
        long f = failures - first.failures();
        errorRate = a >= MIN_ATTEMPTS ? (double) f / a : Double.NaN;
        if (limits.errorRate() != null && !Double.isNaN(errorRate) && errorRate > limits.errorRate()) {
            return Optional.of(new Crossing("error_rate", errorRate, limits.errorRate()));
        }
        return Optional.empty();
    }

    /**
     * The routers' shadow reads (seed 001's shadow-read validation): crossed when the share of mismatched ones is above
     * {@code abort_thresholds.shadow_mismatch_rate}.
     *
     * @param shadowMismatchRate mismatched over compared, or NaN while too few were compared
     */
    public Optional<Crossing> checkShadowReads(double shadowMismatchRate) {
        if (limits.shadowMismatchRate() != null && !Double.isNaN(shadowMismatchRate)
                && shadowMismatchRate > limits.shadowMismatchRate()) {
            return Optional.of(new Crossing("shadow_mismatch_rate", shadowMismatchRate, limits.shadowMismatchRate()));
        }
        return Optional.empty();
    }

    /** The error rate of the last {@link #check}'s minute, or NaN while the minute holds too few attempts. */
    public double errorRate() {
        return errorRate;
    }
}
