package dev.tandem.core.manifest;

/**
 * Seed 002's {@code write_mode}: {@code {mode: dual_write, policy: old_authoritative|new_authoritative}} writes
 * both sides, the authoritative one first; {@code {mode: cutover, write_percentage}} sends that fraction of writes
 * to the new side only.
 */
public record WriteMode(Mode mode, Policy policy, Double writePercentage) {

    public enum Mode {
        DUAL_WRITE,
        CUTOVER
    }

    public enum Policy {
        OLD_AUTHORITATIVE,
        NEW_AUTHORITATIVE
    }
}
