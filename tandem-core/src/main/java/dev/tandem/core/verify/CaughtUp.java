package dev.tandem.core.verify;

import java.time.Duration;

/**
 * How a lag-aware comparison learns that the target caught up with the source (DESIGN.md correctness point 5): a
 * difference seen while a change stream runs may be a change not applied yet, so it is only suspect until it is
 * still there after the target applied everything the source had committed when it was seen.
 */
@FunctionalInterface
public interface CaughtUp {

    /**
     * Returns true once the target holds every change the source committed before this call; false when that did
     * not happen within {@code timeout} (the stream is slow, stopped or failed).
     */
    boolean await(Duration timeout) throws InterruptedException;

    /** Why {@link #await} returned false, for the report. */
    default String why(Duration timeout) {
        return "the change stream did not apply the source's changes within " + timeout.toSeconds() + " s (is it "
                + "running? tandem lag ID)";
    }

    /** Why the stream is known not to run now (so nothing will be confirmed), or empty. */
    default java.util.Optional<String> notRunning() {
        return java.util.Optional.empty();
    }

    /** A stream known not to run: never caught up, and {@code why} says so at once instead of after a timeout. */
    static CaughtUp never(String why) {
        return new CaughtUp() {
            @Override
            public boolean await(Duration timeout) {
                return false;
            }

            @Override
            public java.util.Optional<String> notRunning() {
                return java.util.Optional.of(why);
            }

            @Override
            public String why(Duration timeout) {
                return why;
            }
        };
    }
}
