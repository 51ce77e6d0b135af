package dev.tandem.router;

/**
 * Where a write transaction goes: {@code first} always; with {@code second}, dual writes — the authoritative side
 * first, then the other, whose failure is recorded for reconciliation rather than thrown.
 */
public record WritePlan(Side first, Side second) {
    public static final WritePlan SOURCE_ONLY = new WritePlan(Side.SOURCE, null);
    public static final WritePlan TARGET_ONLY = new WritePlan(Side.TARGET, null);

    public boolean dual() {
        return second != null;
    }
}
