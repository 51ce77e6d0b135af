package dev.tandem.core.manifest;

/**
 * {@code validation:} how Tandem proves source and target equal.
 *
 * @param shadowReadSample fraction of reads the router repeats on the other side and compares; 0 for none
 * @param continuous       during catch-up, re-verify the rows the stream applies and cycle full-table passes
 * @param repair           continuous verification copies confirmed drift again from the source by itself
 * @param rowsPerSecond    the rate limit of continuous verification's background passes (rows per second read on
 *                         each side; the re-verification of applied rows is not limited)
 */
public record Validation(Mode mode, boolean continuous, double shadowReadSample, boolean repair, long rowsPerSecond) {
    public static final Validation DEFAULT = new Validation(Mode.CHECKSUM, true, 0.0, false, 50_000);

    public enum Mode {
        CHECKSUM,
        ROW_DIFF,
        COUNT,
        NONE
    }
}
