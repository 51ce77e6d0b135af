package dev.tandem.core.cdc;

import dev.tandem.core.store.LagSample;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Seed 000's lag answer, from the samples the streaming process stored: the newest sample's seconds, records and
 * bytes; the trend from the bytes over the last minute (least-squares slope); the catch-up estimate from that slope.
 *
 * @param stale the newest sample is older than a few seconds: no process is streaming now, and the figures are
 *              those of when it stopped
 */
public record LagReport(double seconds, long records, long bytes, String trend, String estimatedCatchUp,
                        String position, Instant positionTime, Instant sampledAt, boolean stale) {

    /** @param newestFirst samples, newest first (as {@code LagSamples.recent} returns them); not empty */
    public static LagReport of(List<LagSample> newestFirst, Instant now) {
        LagSample last = newestFirst.get(0);
        Instant since = last.sampledAt().minusSeconds(60);
        List<LagSample> window = newestFirst.stream().filter(s -> !s.sampledAt().isBefore(since)).toList();
        double slope = slope(window); // bytes per second
        String trend;
        double noise = Math.max(64 * 1024, 0.05 * last.bytes()) / 60.0;
        if (window.size() < 3 || Math.abs(slope) <= noise) {
            trend = "stable";
        } else {
            trend = slope < 0 ? "decreasing" : "increasing";
        }
        String eta;
        if (last.bytes() == 0 && last.records() == 0) {
            eta = "0 seconds";
        } else if (trend.equals("decreasing")) {
            eta = human(Duration.ofSeconds(Math.max(1, Math.round(last.bytes() / -slope))));
        } else {
            eta = "unknown";
        }
        boolean stale = Duration.between(last.sampledAt(), now).toSeconds() > 5;
        return new LagReport(Math.round(last.seconds() * 10) / 10.0, last.records(), last.bytes(), trend, eta,
                last.appliedPosition(), last.appliedCommitAt(), last.sampledAt(), stale);
    }

    private static double slope(List<LagSample> samples) {
        if (samples.size() < 2) {
            return 0;
        }
        Instant t0 = samples.get(samples.size() - 1).sampledAt();
        double n = samples.size();
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (LagSample s : samples) {
            double x = Duration.between(t0, s.sampledAt()).toMillis() / 1000.0;
            double y = s.bytes();
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double d = n * sxx - sx * sx;
        return d == 0 ? 0 : (n * sxy - sx * sy) / d;
    }

    /** {@code 45 seconds}, {@code 2 minutes}, {@code 3 hours}: as seed 000 writes it. */
    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 90) {
            return s + (s == 1 ? " second" : " seconds");
        }
        if (s < 90 * 60) {
            long m = Math.round(s / 60.0);
            return m + " minutes";
        }
        long h = Math.round(s / 3600.0);
        return String.format(Locale.ROOT, "%d %s", h, h == 1 ? "hour" : "hours");
    }
}
