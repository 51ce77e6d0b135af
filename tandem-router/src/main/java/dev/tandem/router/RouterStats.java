package dev.tandem.router;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one router did, since it started: transactions per side, shadow reads and their outcome, the write gate.
 * Reported to the control plane with every acknowledgement, and readable by the application ({@link #snapshot}) for
 * its own metrics library.
 */
public final class RouterStats {
    final LongAdder readsSource = new LongAdder();
    final LongAdder readsTarget = new LongAdder();
    final LongAdder writesSource = new LongAdder();
    final LongAdder writesTarget = new LongAdder();
    final LongAdder shadowReads = new LongAdder();
    final LongAdder shadowMatches = new LongAdder();
    final LongAdder shadowMismatches = new LongAdder();
    final LongAdder shadowDropped = new LongAdder();
    final LongAdder shadowErrors = new LongAdder();
    final LongAdder gateWaits = new LongAdder();
    final LongAdder gateTimeouts = new LongAdder();
    final LongAdder rebinds = new LongAdder();

    void read(Side side) {
        (side == Side.SOURCE ? readsSource : readsTarget).increment();
    }

    void write(Side side) {
        (side == Side.SOURCE ? writesSource : writesTarget).increment();
    }

    /** Mismatched shadow reads over compared ones (0 when none was compared). */
    public double shadowMismatchRate() {
        long compared = shadowMatches.sum() + shadowMismatches.sum();
        return compared == 0 ? 0 : shadowMismatches.sum() / (double) compared;
    }

    /** The counters by their wire names (snake case, as the control plane stores them). */
    public Map<String, Object> snapshot() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reads_source", readsSource.sum());
        m.put("reads_target", readsTarget.sum());
        m.put("writes_source", writesSource.sum());
        m.put("writes_target", writesTarget.sum());
        m.put("shadow_reads", shadowReads.sum());
        m.put("shadow_matches", shadowMatches.sum());
        m.put("shadow_mismatches", shadowMismatches.sum());
        m.put("shadow_mismatch_rate", shadowMismatchRate());
        m.put("shadow_dropped", shadowDropped.sum());
        m.put("shadow_errors", shadowErrors.sum());
        m.put("gate_waits", gateWaits.sum());
        m.put("gate_timeouts", gateTimeouts.sum());
        m.put("rebinds", rebinds.sum());
        return m;
    }

    public long readsSource() {
        return readsSource.sum();
    }

    public long readsTarget() {
        return readsTarget.sum();
    }

    public long writesSource() {
        return writesSource.sum();
    }

    public long writesTarget() {
        return writesTarget.sum();
    }

    public long shadowMatches() {
        return shadowMatches.sum();
    }

    public long shadowMismatches() {
        return shadowMismatches.sum();
    }

    public long gateTimeouts() {
        return gateTimeouts.sum();
    }
}
