package dev.tandem.core.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LifecycleTest {

    /** The transition table, written out independently of Lifecycle: event -> "from states -> to state". */
    private static final Map<LifecycleEvent, String> TABLE = Map.of(
            LifecycleEvent.CONFIGURE, "pending -> ready",
            LifecycleEvent.START, "ready -> running",
            LifecycleEvent.PAUSE, "running -> paused",
            LifecycleEvent.RESUME, "paused -> running",
            LifecycleEvent.ADVANCE, "running -> running",
            LifecycleEvent.FAIL, "running paused rolling_back -> failed",
            LifecycleEvent.RETRY, "failed -> running",
            LifecycleEvent.ABORT, "pending ready running paused failed -> rolling_back",
            LifecycleEvent.ROLLBACK_DONE, "rolling_back -> rolled_back",
            LifecycleEvent.COMPLETE, "running -> completed");

    static Stream<Arguments> everyStateAndEvent() {
        List<Arguments> out = new ArrayList<>();
        for (LifecycleEvent e : LifecycleEvent.values()) {
            String[] rule = TABLE.get(e).split(" -> ");
            List<String> from = List.of(rule[0].split(" "));
            for (MigrationState s : MigrationState.values()) {
                out.add(Arguments.of(s, e, from.contains(s.wire()) ? rule[1] : null));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} from {0} -> {2}")
    @MethodSource("everyStateAndEvent")
    void followsTheTransitionTable(MigrationState state, LifecycleEvent event, String expectedState) {
        // Phase cleanup lets complete be legal; advance goes to a later phase than cleanup's predecessor.
        Phase phase = event == LifecycleEvent.ADVANCE ? Phase.SHADOW : Phase.CLEANUP;
        Status from = new Status(state, phase);
        Phase to = event == LifecycleEvent.ADVANCE ? Phase.CUTOVER : null;
        if (expectedState == null) {
            assertThatThrownBy(() -> Lifecycle.next("m1", from, event, to))
                    .isInstanceOfSatisfying(TandemException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.BAD_STATE);
                        assertThat(e.getMessage()).startsWith("cannot " + event.wire() + " migration m1: expected state ")
                                .endsWith(", actual " + state.wire());
                    });
        } else {
            assertThat(Lifecycle.next("m1", from, event, to).state().wire()).isEqualTo(expectedState);
        }
    }

    @Test
    void namesEveryAllowedStateWhenATransitionIsIllegal() {
        assertThatThrownBy(() -> Lifecycle.next("orders", new Status(MigrationState.COMPLETED, Phase.CLEANUP),
                LifecycleEvent.ABORT, null)).hasMessage("cannot abort migration orders: expected state pending or ready "
                + "or running or paused or failed, actual completed");
    }

    @Test
    void phasesOnlyMoveForward() {
        Status backfill = new Status(MigrationState.RUNNING, Phase.BACKFILL);
        assertThat(Lifecycle.next("m", backfill, LifecycleEvent.ADVANCE, Phase.CATCH_UP).phase()).isEqualTo(Phase.CATCH_UP);
        assertThat(Lifecycle.next("m", backfill, LifecycleEvent.ADVANCE, Phase.CUTOVER).phase()).isEqualTo(Phase.CUTOVER);
        assertThatThrownBy(() -> Lifecycle.next("m", backfill, LifecycleEvent.ADVANCE, Phase.BACKFILL))
                .hasMessageContaining("expected a phase after backfill, actual backfill");
        assertThatThrownBy(() -> Lifecycle.next("m", backfill, LifecycleEvent.ADVANCE, Phase.PREPARE))
                .hasMessageContaining("expected a phase after backfill, actual prepare");
    }

    @Test
    void completesOnlyFromCleanup() {
        assertThatThrownBy(() -> Lifecycle.next("m", new Status(MigrationState.RUNNING, Phase.CUTOVER),
                LifecycleEvent.COMPLETE, null)).hasMessage("cannot complete migration m: expected phase cleanup, actual "
                + "cutover");
    }

    @Test
    void keepsThePhaseThroughPauseFailureAndAbortAndStartsAtPrepare() {
        Status catchUp = new Status(MigrationState.RUNNING, Phase.CATCH_UP);
        Status paused = Lifecycle.next("m", catchUp, LifecycleEvent.PAUSE, null);
        assertThat(paused).isEqualTo(new Status(MigrationState.PAUSED, Phase.CATCH_UP));
        Status aborting = Lifecycle.next("m", paused, LifecycleEvent.ABORT, null);
        assertThat(aborting).isEqualTo(new Status(MigrationState.ROLLING_BACK, Phase.CATCH_UP));
        assertThat(Lifecycle.next("m", new Status(MigrationState.READY, Phase.PREPARE), LifecycleEvent.START, null))
                .isEqualTo(new Status(MigrationState.RUNNING, Phase.PREPARE));
    }

    @Test
    void terminalStatesAcceptNothing() {
        for (MigrationState terminal : List.of(MigrationState.COMPLETED, MigrationState.ROLLED_BACK)) {
            assertThat(terminal.isTerminal()).isTrue();
            for (LifecycleEvent e : LifecycleEvent.values()) {
                assertThat(Lifecycle.allowedFrom(e)).doesNotContain(terminal);
            }
        }
    }
}
