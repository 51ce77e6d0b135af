package dev.tandem.core.verify;

import dev.tandem.core.cdc.ChangeStreamRunner;
import dev.tandem.core.cdc.Streams;
import dev.tandem.core.cdc.TimestampColumnCapture;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.StreamDirection;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * How {@code tandem verify}, run by a process other than the one streaming the migration, learns that the target
 * caught up (the lag-aware mode, DESIGN.md correctness point 5): a fence written into the source's change log, which
 * the streaming process records in the store (tandem_fences) once it committed everything before it — exact, unlike a
 * comparison of log positions. Timestamp polling has no log to write into: there the wait ends when the streaming
 * process's lag samples show a poll cycle that started after the wait began.
 */
final class StreamFence {
    private StreamFence() {
    }

    /**
     * The migration's stream to wait for, or empty when there is none (no such migration in this store, finished, or
     * no stream). A migration still copying is refused: its target lacks rows by design.
     */
    static Optional<CaughtUp> of(ControlStore store, Manifest m, Connector source) {
        Optional<MigrationRecord> found = store.migrations().find(m.id());
        if (found.isEmpty() || found.get().status().state().isTerminal()
                || store.positions().find(m.id(), StreamDirection.FORWARD).isEmpty()) {
            return Optional.empty();
        }
        MigrationRecord r = found.get();
        if (r.status().phase().isBefore(Phase.CATCH_UP)) {
            throw TandemException.badState("migration " + m.id() + " is still copying (phase " + r.status().phase()
                    .wire() + "): the target lacks rows by design until the backfill ends. Verify once it is in "
                    + "catch_up (tandem status " + m.id() + ")");
        }
        if (store.leases().liveHolder(m.id()).isEmpty()) {
            String at = store.positions().find(m.id(), StreamDirection.FORWARD).map(p -> p.confirmed()).orElse("?");
            return Optional.of(CaughtUp.never("the change stream of migration " + m.id() + " is not running (state "
                    + r.status().state().wire() + "; the target holds the source's changes up to " + at + " only), "
                    + "so a difference may be a change made on the source after that and none is confirmed or "
                    + "cleared; resume the stream (tandem resume " + m.id() + " or tandem migrate -f MANIFEST) and "
                    + "verify again"));
        }
        ChangeCapture capture = Streams.capture(m, source, null, List.of());
        return Optional.of(capture instanceof TimestampColumnCapture || !capture.marksLog()
                ? polledPast(store, m, source, capture)
                : fenced(store, m, source, capture));
    }

    private static CaughtUp fenced(ControlStore store, Manifest m, Connector source, ChangeCapture capture) {
        return timeout -> {
            String fence = ChangeStreamRunner.FOREIGN_FENCE + UUID.randomUUID();
            try (Connection c = source.connect()) {
                c.setAutoCommit(true);
                capture.fence(c, fence);
            } catch (SQLException e) {
                throw new TandemException(ErrorCode.SOURCE, "cannot write a fence into the source's change log: "
                        + m.source().scrub(e.getMessage()), e);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (store.fences().take(m.id(), fence)) {
                    return true;
                }
                Thread.sleep(100);
            }
            return false;
        };
    }

    private static CaughtUp polledPast(ControlStore store, Manifest m, Connector source, ChangeCapture capture) {
        return timeout -> {
            String now;
            try (Connection c = source.connect()) {
                now = capture.currentPosition(c);
            } catch (SQLException e) {
                throw new TandemException(ErrorCode.SOURCE, "cannot read the source's clock: "
                        + m.source().scrub(e.getMessage()), e);
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                List<LagSample> last = store.lag().recent(m.id(), StreamDirection.FORWARD, 1);
                if (!last.isEmpty() && last.get(0).appliedPosition() != null
                        && capture.distance(last.get(0).appliedPosition(), now) == 0) {
                    return true;
                }
                Thread.sleep(200);
            }
            return false;
        };
    }
}
