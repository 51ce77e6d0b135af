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
}
