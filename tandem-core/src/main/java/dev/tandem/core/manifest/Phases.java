package dev.tandem.core.manifest;

import java.util.List;
import java.util.Set;

/**
 * Seed 001's {@code phases}: the phases a migration runs, in lifecycle order ({@code prepare, backfill, catch_up,
 * shadow, cutover, cleanup}; seed 001's own names {@code dual_write} and {@code shadow_read} are read as catch_up and
 * shadow). Prepare always runs. Leaving out backfill means {@code data: none}, leaving out catch_up means no change
 * capture (type full) — the reader refuses a manifest where they disagree; leaving out shadow makes an advance into
 * it refused; leaving out cutover (and with it cleanup) makes the migration one that copies and streams only, whose
 * cutover is refused.
 *
 * @param wire the phases as wire names, prepare first
 */
public record Phases(List<String> wire) {
    /** Every phase: what a manifest without {@code phases} runs. */
    public static final Phases ALL = new Phases(List.of("prepare", "backfill", "catch_up", "shadow", "cutover",
            "cleanup"));

    /** The names a manifest may write, in order. */
    static final List<String> NAMES = ALL.wire;

    /** Seed 001's names for two of them. */
    static final Set<String> SEED_001_NAMES = Set.of("dual_write", "shadow_read");

    public Phases {
        wire = List.copyOf(wire);
    }

    /** Whether the phase of this wire name runs. */
    public boolean includes(String phase) {
        return wire.contains(phase);
    }

    /** Seed 001's name of a phase as Tandem's, or the name itself. */
    static String canonical(String name) {
        return switch (name) {
            case "dual_write" -> "catch_up";
            case "shadow_read" -> "shadow";
            default -> name;
        };
    }
}
