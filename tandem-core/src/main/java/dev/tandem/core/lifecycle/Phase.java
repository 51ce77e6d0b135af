package dev.tandem.core.lifecycle;

import java.util.List;
import java.util.Locale;

/**
 * DESIGN.md's phases, in order: prepare → backfill → catch_up → shadow → cutover → cleanup. A migration only moves
 * forward through them; abort leaves the phase as it was and changes the state.
 */
public enum Phase {
    /** Preflight, schema creation, change log opened at P0. */
    PREPARE,
    /** Chunked copy of the existing rows while the stream runs. */
    BACKFILL,
    /** Applying the stream until lag is small. */
    CATCH_UP,
    /** Shadow reads and canary traffic through the routers. */
    SHADOW,
    /** Write freeze, final sync, routing flipped to the target. */
    CUTOVER,
    /** Streams and slots dropped, audit archived. */
    CLEANUP;

    /** The phases in order; never rely on {@link #ordinal()} elsewhere. */
    public static final List<Phase> ORDER = List.of(PREPARE, BACKFILL, CATCH_UP, SHADOW, CUTOVER, CLEANUP);

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isBefore(Phase other) {
        return ORDER.indexOf(this) < ORDER.indexOf(other);
    }

    public static Phase fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
