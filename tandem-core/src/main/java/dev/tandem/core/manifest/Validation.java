package dev.tandem.core.manifest;

/**
 * {@code validation:} how Tandem proves source and target equal.
 *
 * @param shadowReadSample fraction of reads the router repeats on the other side and compares; 0 for none
 */
public record Validation(Mode mode, boolean continuous, double shadowReadSample, boolean repair) {
    public static final Validation DEFAULT = new Validation(Mode.CHECKSUM, true, 0.0, false);

    public enum Mode {
        CHECKSUM,
        ROW_DIFF,
        COUNT,
        NONE
    }
}
