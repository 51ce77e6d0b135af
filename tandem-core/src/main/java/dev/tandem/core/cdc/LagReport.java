package dev.tandem.core.cdc;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.store.StreamPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Seed 000's lag answer, from the samples the streaming process stored: the newest sample's seconds, records and
 * bytes; the trend from the seconds over the last minute (least-squares slope: bytes move with unrelated log traffic,
 * seconds with what the target still lacks); the catch-up estimate from that slope.
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
        double slope = slope(window); // seconds of lag per second
        String trend;
        double noise = Math.max(1.0, 0.05 * last.seconds()) / 60.0;
        if (window.size() < 3 || Math.abs(slope) <= noise) {
            trend = "stable";
        } else {
            trend = slope < 0 ? "decreasing" : "increasing";
        }
        String eta;
        if (last.seconds() < 1 && last.records() == 0) {
            eta = "0 seconds";
        } else if (trend.equals("decreasing")) {
            eta = human(Duration.ofSeconds(Math.max(1, Math.round(last.seconds() / -slope))));
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
            double y = s.seconds();
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double d = n * sxx - sx * sx;
        return d == 0 ? 0 : (n * sxy - sx * sy) / d;
    }

    /**
     * The lag of the stream that is live in the migration's phase: the forward stream, and once cut over the reverse
     * one (target to source, kept for a rollback), falling back to whichever has samples.
     *
     * @param direction the stream the figures are of
     * @param position  its confirmed position
     */
    public record Live(StreamDirection direction, StreamPosition position, LagReport report) {
    }

    /**
     * {@link Live} for migration {@code r}, as {@code tandem lag} and {@code GET .../lag} answer it.
     *
     * @throws TandemException BAD_STATE when the migration has no stream, or none recorded its lag yet
     */
    public static Live live(ControlStore store, MigrationRecord r) {
        StreamDirection first = r.status().phase() == Phase.CUTOVER ? StreamDirection.REVERSE : StreamDirection.FORWARD;
        StreamDirection other = first == StreamDirection.FORWARD ? StreamDirection.REVERSE : StreamDirection.FORWARD;
        for (StreamDirection d : List.of(first, other)) {
            var pos = store.positions().find(r.id(), d);
            if (pos.isEmpty()) {
                continue;
            }
            List<LagSample> samples = store.lag().recent(r.id(), d, 120);
            if (!samples.isEmpty()) {
                return new Live(d, pos.get(), of(samples, store.now()));
            }
        }
        if (store.positions().find(r.id(), first).isEmpty() && store.positions().find(r.id(), other).isEmpty()) {
            throw TandemException.badState("migration " + r.id() + " has no change stream (cdc.method none, or it "
                    + "has not started); expected a streaming migration");
        }
        throw TandemException.badState("migration " + r.id() + " has not recorded its lag yet; it does once its "
                + "stream runs (tandem migrate -f MANIFEST)");
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
