package dev.tandem.core.backfill;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.manifest.FailureHandling;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;

/**
 * What to do when a chunk attempt fails, from seed 002's {@code failure_handling}. A transient error (connection
 * lost, serialization failure, server restarting) is retried with backoff under every policy, up to
 * {@value #TRANSIENT_RETRIES} times or {@code retry_count}, whichever is more; any other error is retried only under
 * {@code retry_then_all}, {@code retry_count} times. When a chunk finally fails, {@code allow_partial} gives up its
 * table and carries on with the others; {@code rollback_all} and {@code retry_then_all} stop the run (the migration
 * becomes failed, and a rerun with --prev-run finishes it).
 */
public final class FailurePolicy {
    static final int TRANSIENT_RETRIES = 3;

    private final FailureHandling handling;

    public FailurePolicy(FailureHandling handling) {
        this.handling = handling;
    }

    /** Whether attempt number {@code attempt} (0 for the first) that failed with {@code e} should be tried again. */
    public boolean retry(Throwable e, int attempt) {
        if (isTransient(e)) {
            return attempt < Math.max(TRANSIENT_RETRIES, handling.retryCount());
        }
        return handling.type() == FailureHandling.Type.RETRY_THEN_ALL && attempt < handling.retryCount();
    }

    /** The pause before attempt {@code attempt + 1}: 0.5 s doubling, at most 10 s. */
    public Duration backoff(int attempt) {
        return Duration.ofMillis(Math.min(10_000, 500L << Math.min(attempt, 10)));
    }

    /** Whether a finally failed chunk only fails its own table. */
    public boolean partial() {
        return handling.type() == FailureHandling.Type.ALLOW_PARTIAL;
    }

    static boolean isTransient(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && SqlErrors.isRetryable(s)) {
                return true;
            }
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}
