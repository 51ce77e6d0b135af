package dev.tandem.core.store;

import java.time.Instant;

/**
 * One measurement of how far the target is behind the source.
 *
 * @param sourcePosition  the source's newest log position when sampled
 * @param appliedPosition the position of the last change the target handled
 * @param appliedCommitAt the source commit time of that change (null before the first)
 * @param seconds         how long ago the source was at the applied position (0 when caught up)
 * @param records         changes received and not yet applied (including those held back for chunks copying)
 * @param bytes           change log bytes between the applied and the source's position
 */
public record LagSample(Instant sampledAt, String sourcePosition, String appliedPosition, Instant appliedCommitAt,
                        double seconds, long records, long bytes) {
}
