package dev.tandem.core.cutover;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Times the steps of one procedure (cutover or rollback) and gathers what its report says; {@link #completed} or
 * {@link #failed} closes it into the {@link CutoverReport}.
 */
final class StepClock {
    private final String procedure;
    private final String actor;
    private final Instant at = Instant.now();
    private final long start = System.nanoTime();
    private final List<CutoverReport.Step> steps = new ArrayList<>();
    private String current;
    private long stepStart;
    private long frozenEpoch = -1;
    private List<String> routers = List.of();
    private Long flippedEpoch;
    private Double freezeMs;
    private CutoverReport.Verification verification;
    private List<String> sequences = List.of();
    private WritePause.Summary writePause;
    private String warning;

    StepClock(String procedure, String actor) {
        this.procedure = procedure;
        this.actor = actor;
    }

    /** Ends the step running (if any) and starts {@code name}. */
    void begin(String name) {
        end();
        current = name;
        stepStart = System.nanoTime();
    }

    void end() {
        if (current != null) {
            steps.add(new CutoverReport.Step(current, ms(System.nanoTime() - stepStart)));
            current = null;
        }
    }

    /** The step running now, or null. */
    String current() {
        return current;
    }

    void frozen(long epoch, List<String> liveRouters) {
        frozenEpoch = epoch;
        routers = List.copyOf(liveRouters);
    }

    /** The flip at {@code epoch}, {@code frozenNanos} after the freeze began. */
    void flipped(long epoch, long frozenNanos) {
        flippedEpoch = epoch;
        freezeMs = ms(frozenNanos);
    }

    Double freezeMs() {
        return freezeMs;
    }

    void verification(CutoverReport.Verification v) {
        verification = v;
    }

    CutoverReport.Verification verification() {
        return verification;
    }

    void sequences(List<String> set) {
        sequences = List.copyOf(set);
    }

    void writePause(WritePause.Summary p) {
        writePause = p;
    }

    void warning(String w) {
        warning = w;
    }

    CutoverReport completed() {
        end();
        return report(true, null, null);
    }

    /** Closes the report as failed at the step running now. */
    CutoverReport failed(String why) {
        String step = current;
        end();
        return report(false, step, why);
    }

    private CutoverReport report(boolean ok, String failedStep, String error) {
        CutoverReport.Freeze freeze = frozenEpoch < 0 ? null
                : new CutoverReport.Freeze(frozenEpoch, routers, flippedEpoch, freezeMs);
        return new CutoverReport(procedure, actor, at, List.copyOf(steps), ok, failedStep, error,
                (System.nanoTime() - start) / 1_000_000, freeze, verification, sequences, writePause, warning, null);
    }

    static double ms(long nanos) {
        return Math.round(nanos / 10_000.0) / 100.0;
    }
}
