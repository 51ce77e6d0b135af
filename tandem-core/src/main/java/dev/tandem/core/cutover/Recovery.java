package dev.tandem.core.cutover;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.plan.Tables;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Routing;
import dev.tandem.core.store.StreamDirection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * After a process died in the middle of a cutover or rollback: routing is put where the phase says — cut over (and
 * unfrozen) in phase cutover, on the source before it — and what the dead procedure left is dropped (the forward
 * stream after a flip, a reverse slot before one).
 */
public final class Recovery {
    private Recovery() {
    }

    /** Returns what it did, or null when nothing was needed. */
    public static String recover(ControlStore store, Tables tables, Phase phase, String actor) throws SQLException {
        String id = tables.manifest().id();
        Optional<Routing.Control> found = store.routing().find(id);
        if (found.isEmpty()) {
            return null;
        }
        Routing.Control c = found.get();
        if (phase == Phase.CUTOVER) {
            String done = null;
            if (!c.cutOver() || c.frozen()) {
                store.routing().set(id, c.frozen(false).cutOver(true), actor, "recovered after a restart: cut over "
                        + "(the procedure that froze writes died)");
                done = "Routing set to the target, unfrozen (a procedure died with writes frozen)";
            }
            if (store.positions().find(id, StreamDirection.FORWARD).isPresent()) {
                Streams.dropForward(tables.manifest(), tables.source(), tables.target());
                store.positions().delete(id, StreamDirection.FORWARD);
                done = (done == null ? "" : done + "; ") + "dropped the forward stream left by the cutover";
            }
            return done;
        }
        if (phase.isBefore(Phase.CUTOVER) && (c.frozen() || c.cutOver())) {
            store.routing().set(id, c.frozen(false).cutOver(false), actor, "recovered after a restart: the cutover "
                    + "died before the flip; routing back to the source");
            if (store.positions().find(id, StreamDirection.REVERSE).isPresent()) {
                Streams.dropReverse(store, id, tables.target());
            }
            return "A cutover died before its flip: routing is back on the source, unfrozen";
        }
        return null;
    }
}
