package dev.tandem.core.store;

import java.util.Locale;

/**
 * Which of a migration's change streams: the key of its position and lag samples in the store, and the part of its
 * name that tells them apart.
 */
public enum StreamDirection {
    /** Source to target: opened before the copy, streams until the cutover. */
    FORWARD,
    /** After the cutover: the target's changes streamed back to the source, so a rollback loses nothing. */
    REVERSE;

    /** As stored and shown: {@code forward}, {@code reverse}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static StreamDirection fromWire(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
