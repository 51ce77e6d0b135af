package dev.tandem.router;

/**
 * What the application tells the router about the request a connection serves: the user (canary and feature-flag
 * buckets are per user, so a user sees one side), the feature (strangler fig, feature flags) and the region
 * (geographic). Any may be null. Set it around a unit of work with {@link #run}; the router reads {@link #current()}
 * when a connection is taken.
 */
public record TandemContext(String userId, String feature, String region) {
    private static final ThreadLocal<TandemContext> CURRENT = new ThreadLocal<>();
    public static final TandemContext NONE = new TandemContext(null, null, null);

    /** The context of this thread, or {@link #NONE}. */
    public static TandemContext current() {
        TandemContext c = CURRENT.get();
        return c == null ? NONE : c;
    }

    /** Runs {@code work} with this context set on the thread, and restores the previous one after. */
    public void run(Runnable work) {
        TandemContext previous = CURRENT.get();
        CURRENT.set(this);
        try {
            work.run();
        } finally {
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        }
    }
}
