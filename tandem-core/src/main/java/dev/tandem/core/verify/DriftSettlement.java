package dev.tandem.core.verify;

import dev.tandem.core.plan.TableJob;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.store.KeyJson;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What continuous verification does with rows found different: a lag-aware recheck ({@link RowRecheck}); each
 * confirmed row is stored once ({@link DriftRecorder}), timed (detection latency), reported, and repaired when
 * {@code validation.repair} says so. Keeps the counts abort thresholds and status read.
 */
final class DriftSettlement {
    private static final Duration RECHECK_TIMEOUT = Duration.ofSeconds(60);

    private final CaughtUp caughtUp;
    private final DriftRecorder drift;
    private final Optional<ChangeApplier> repairer;
    private final Timer detection;
    private final Consumer<String> say;
    private final Set<String> recorded = new HashSet<>();
    final AtomicLong confirmed = new AtomicLong();
    final AtomicLong repaired = new AtomicLong();
    /**
     * Confirmed drift while repair is off. With {@code validation.repair} a row is repaired at once, or (its source
     * row changed meanwhile) left to the stream and verified again, so it never counts.
     */
    final AtomicLong unrepaired = new AtomicLong();
    final AtomicLong inFlight = new AtomicLong();

    DriftSettlement(CaughtUp caughtUp, DriftRecorder drift, Optional<ChangeApplier> repairer, Timer detection,
                    Consumer<String> say) {
        this.caughtUp = caughtUp;
        this.drift = drift;
        this.repairer = repairer;
        this.detection = detection;
        this.say = say;
    }

    /**
     * Rechecks {@code suspects} of {@code job}, found in chunk {@code chunkNo} (or among the applied rows); stores,
     * reports and (when configured) repairs the confirmed ones. {@code sinceNanos}: when the rows were last seen
     * equal, or applied.
     */
    void settle(TableJob job, int chunkNo, List<RowRecheck.Suspect> suspects, RowRecheck.Side ss,
                RowRecheck.Side ts, long sinceNanos) throws SQLException, InterruptedException {
        RowRecheck.Outcome o = RowRecheck.recheck(suspects, ss, ts, caughtUp, RECHECK_TIMEOUT);
        inFlight.addAndGet(o.inFlight());
        for (RowRecheck.Suspect d : o.confirmed()) {
            String once = job.name() + "\u0000" + KeyJson.write(d.key());
            if (!recorded.add(once)) {
                continue; // reported before and not repaired
            }
            Duration within = Duration.ofNanos(System.nanoTime() - sinceNanos);
            detection.record(within);
            DriftRecorder.Recorded r = drift.record(job.name(), chunkNo, d, ss, ts);
            confirmed.incrementAndGet();
            boolean fixed = false;
            if (repairer.isPresent()) {
                fixed = repair(r, d, ss, ts);
                // Not fixed: the source row changed since it was compared; the stream brings that change, and if
                // the row still differs afterwards it is found, reported and repaired again.
                recorded.remove(once);
            } else {
                unrepaired.incrementAndGet();
            }
            StringBuilder cols = new StringBuilder();
            r.differing().forEach((c, v) -> cols.append(' ').append(c).append(" source=").append(v.get(0))
                    .append(" target=").append(v.get(1)));
            say.accept(String.format(Locale.ROOT, "  DRIFT %s key %s: %s%s; detected within %.1f s%s", job.name(),
                    d.key(), d.kind().wire(), cols, within.toMillis() / 1000.0,
                    fixed ? "; repaired from the source" : ""));
        }
    }

    private boolean repair(DriftRecorder.Recorded r, RowRecheck.Suspect d, RowRecheck.Side ss, RowRecheck.Side ts)
            throws SQLException {
        Connection t = ts.connection();
        t.setAutoCommit(false);
        try {
            boolean fixed = drift.repaired(r, d, ss, ts, repairer.get());
            if (fixed) {
                repaired.incrementAndGet();
            }
            return fixed;
        } finally {
            t.setAutoCommit(true);
        }
    }
}
