package dev.tandem.core.manifest;

/** Seed 000's {@code continuous}: keep streaming until stopped, or stop once source and target are in sync. */
public record Continuous(boolean enabled, StopWhen stopWhen) {
    public static final Continuous DEFAULT = new Continuous(true, StopWhen.MANUAL);

    public enum StopWhen {
        MANUAL,
        IN_SYNC
    }
}
