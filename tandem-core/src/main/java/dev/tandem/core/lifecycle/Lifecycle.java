package dev.tandem.core.lifecycle;

import static dev.tandem.core.lifecycle.MigrationState.COMPLETED;
import static dev.tandem.core.lifecycle.MigrationState.FAILED;
import static dev.tandem.core.lifecycle.MigrationState.PAUSED;
import static dev.tandem.core.lifecycle.MigrationState.PENDING;
import static dev.tandem.core.lifecycle.MigrationState.READY;
import static dev.tandem.core.lifecycle.MigrationState.ROLLED_BACK;
import static dev.tandem.core.lifecycle.MigrationState.ROLLING_BACK;
import static dev.tandem.core.lifecycle.MigrationState.RUNNING;

import dev.tandem.core.error.TandemException;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The transition table of seed 002's states and DESIGN.md's phases. Pure: it only says whether a transition is
 * legal and where it leads; {@code Migrations.transition} applies it as a compare-and-set with an audit row.
 *
 * <pre>
 * event          from                                         to
 * configure      pending                                      ready
 * start          ready                                        running (phase prepare)
 * pause          running                                      paused
 * resume         paused                                       running
 * advance        running                                      running, a later phase
 * fail           running, paused, rolling_back                failed
 * retry          failed                                       running
 * abort          pending, ready, running, paused, failed      rolling_back
 * rollback_done  rolling_back                                 rolled_back
 * complete       running in phase cleanup                     completed
 * </pre>
 */
public final class Lifecycle {
    private Lifecycle() {
    }

    private static final Map<LifecycleEvent, Set<MigrationState>> FROM = new EnumMap<>(LifecycleEvent.class);
    private static final Map<LifecycleEvent, MigrationState> TO = new EnumMap<>(LifecycleEvent.class);

    static {
        rule(LifecycleEvent.CONFIGURE, READY, PENDING);
        rule(LifecycleEvent.START, RUNNING, READY);
        rule(LifecycleEvent.PAUSE, PAUSED, RUNNING);
        rule(LifecycleEvent.RESUME, RUNNING, PAUSED);
        rule(LifecycleEvent.ADVANCE, RUNNING, RUNNING);
        rule(LifecycleEvent.FAIL, FAILED, RUNNING, PAUSED, ROLLING_BACK);
        rule(LifecycleEvent.RETRY, RUNNING, FAILED);
        rule(LifecycleEvent.ABORT, ROLLING_BACK, PENDING, READY, RUNNING, PAUSED, FAILED);
        rule(LifecycleEvent.ROLLBACK_DONE, ROLLED_BACK, ROLLING_BACK);
        rule(LifecycleEvent.COMPLETE, COMPLETED, RUNNING);
    }

    private static void rule(LifecycleEvent e, MigrationState to, MigrationState first, MigrationState... rest) {
        FROM.put(e, EnumSet.of(first, rest));
        TO.put(e, to);
    }

    /** The states from which {@code event} is legal. */
    public static Set<MigrationState> allowedFrom(LifecycleEvent event) {
        return EnumSet.copyOf(FROM.get(event));
    }

    /**
     * Where {@code event} leads from {@code current}.
     *
     * @param toPhase the phase to move to; required for {@link LifecycleEvent#ADVANCE}, ignored otherwise
     * @throws TandemException BAD_STATE naming the expected and the actual state when the transition is illegal
     */
    public static Status next(String migrationId, Status current, LifecycleEvent event, Phase toPhase) {
        Set<MigrationState> from = FROM.get(event);
        if (!from.contains(current.state())) {
            throw TandemException.badState("cannot " + event.wire() + " migration " + migrationId + ": expected state "
                    + from.stream().map(MigrationState::wire).collect(Collectors.joining(" or ")) + ", actual "
                    + current.state().wire());
        }
        Phase phase = current.phase();
        switch (event) {
            case START -> phase = Phase.PREPARE;
            case ADVANCE -> {
                if (toPhase == null) {
                    throw new IllegalArgumentException("advance needs the phase to move to");
                }
                if (!current.phase().isBefore(toPhase)) {
                    throw TandemException.badState("cannot advance migration " + migrationId + " to phase "
                            + toPhase.wire() + ": expected a phase after " + current.phase().wire() + ", actual "
                            + toPhase.wire() + " (phases only move forward: prepare, backfill, catch_up, shadow, "
                            + "cutover, cleanup)");
                }
                phase = toPhase;
            }
            case COMPLETE -> {
                if (current.phase() != Phase.CLEANUP) {
                    throw TandemException.badState("cannot complete migration " + migrationId
                            + ": expected phase cleanup, actual " + current.phase().wire());
                }
            }
            default -> {
            }
        }
        return new Status(TO.get(event), phase);
    }
}
