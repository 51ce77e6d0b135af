package dev.tandem.core.manifest;

/**
 * Seed 002's {@code failure_handling}: a string, or {@code {type: retry_then_all, retry_count: 3}}.
 *
 * @param retryCount how many times a failed operation is retried before the type's fallback; 0 unless
 *                   {@code retry_then_all}
 */
public record FailureHandling(Type type, int retryCount) {
    public static final int DEFAULT_RETRY_COUNT = 3;
    public static final FailureHandling DEFAULT = new FailureHandling(Type.ROLLBACK_ALL, 0);

    public enum Type {
        /** Revert everything if any component fails (the default). */
        ROLLBACK_ALL,
        /** Retry failed operations {@code retry_count} times, then roll everything back. */
        RETRY_THEN_ALL,
        /** A failing table is marked failed; the others proceed. */
        ALLOW_PARTIAL
    }
}
