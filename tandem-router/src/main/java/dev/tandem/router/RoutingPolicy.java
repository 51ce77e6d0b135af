package dev.tandem.router;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The routing decisions of seed 002's strategies, pure: for a routing state, this router's instance id and a
 * request's context, which side serves a read, where a write goes, and whether a read is repeated on the other side
 * to compare (shadow read). Once the cutover flipped traffic ({@code cut_over}), everything goes to the target,
 * whatever the strategy.
 * <ul>
 *   <li>canary — reads to the target for a user whose bucket is under {@code read_percentage};</li>
 *   <li>blue_green — reads to the target when {@code active_is_new};</li>
 *   <li>rolling_update — reads to the target on instances listed in {@code migrated_instances};</li>
 *   <li>shadow_traffic — reads on the source, every read repeated on the target and compared;</li>
 *   <li>strangler_fig — reads to the target for a request whose feature maps to true in {@code features};</li>
 *   <li>feature_flag — reads to the target for a request whose feature is an enabled flag, for users under
 *       {@code rollout_percentage};</li>
 *   <li>geographic — reads to the target for a request whose region maps to true in {@code regions};</li>
 *   <li>time_window, big_bang — the source until the cutover (when a time_window cutover may run is the
 *       engine's rule, {@code Strategy.TimeWindow.allows}: routers only follow the flip).</li>
 * </ul>
 * When the migration lists seed 002's APIs ({@code apis}), only a request whose context names one of them as its
 * feature is routed by the strategy; any other request reads the source until the cutover.
 * Under any strategy, a fraction {@code shadow_read_sample} of reads (the manifest's
 * {@code validation.shadow_reads.sample}) is also repeated on the other side and compared, once the target holds the
 * data and until the cutover; the control plane sums the mismatches its routers report.
 * A user's bucket is a stable hash of the strategy's salt (the migration id) and the user id in [0, 1), so a user
 * stays on one side as percentages grow; a request without a user id gets a bucket per connection (random).
 * <h2>Writes: one authoritative side at a time, the other kept by the change stream</h2>
 * Writes go to the source until the cutover and to the target after it ({@link #writes}). That is what every
 * {@code write_mode} becomes in Tandem, and it deviates on purpose from writing twice:
 * <ul>
 *   <li>{@code dual_write} — both sides receive every write: the authoritative side runs the transaction, the other
 *       receives its committed rows through Tandem's change stream (forward before the cutover, reverse after it),
 *       in commit order. A row the other side refuses is handled by {@code failure_handling} (allow_partial gives
 *       the table up and records it for reconciliation) and never thrown at the application. The router does not
 *       replay statements on the other database itself: a replayed statement races the stream (an older replay can
 *       land after a newer streamed row image), applies increments twice ({@code n = n + 1} arrives both ways) and
 *       gets other generated keys and {@code now()} values there — each one silent divergence.</li>
 *   <li>{@code old_authoritative} / {@code new_authoritative} — which side is authoritative: the source before the
 *       cutover, the target after it. Making the target authoritative earlier would need a stream in each direction
 *       at once, with conflicts between them; the cutover moves authority atomically instead (freeze, sync, flip).</li>
 *   <li>{@code cutover} with {@code write_percentage} — likewise: a share of users writing to the target while the
 *       others write to the source splits authority; writes move at the cutover, for everyone at once, with a write
 *       pause measured in milliseconds.</li>
 * </ul>
 */
public final class RoutingPolicy {
    private final RoutingState state;
    private final String instanceId;
    private final String salt;

    /**
     * @param instanceId this application instance's id (rolling_update), or null
     * @param salt       mixed into user buckets (the migration id), so two migrations split users independently
     */
    public RoutingPolicy(RoutingState state, String instanceId, String salt) {
        this.state = state;
        this.instanceId = instanceId;
        this.salt = salt == null ? "" : salt;
    }

    public RoutingState state() {
        return state;
    }

    /** The side that serves a read. */
    public Side reads(TandemContext ctx) {
        if (state.cutOver()) {
            return Side.TARGET;
        }
        if (!state.targetReady()) {
            return Side.SOURCE; // still copying, or the stream stopped: the target's rows are missing or stale
        }
        if (!state.apis().isEmpty() && (ctx.feature() == null || !state.apis().contains(ctx.feature()))) {
            return Side.SOURCE; // the migration shifts the traffic of its APIs only
        }
        return switch (state.type()) {
            case "canary" -> bucket(ctx) < state.number("read_percentage", 0) ? Side.TARGET : Side.SOURCE;
            case "blue_green" -> state.flag("active_is_new") ? Side.TARGET : Side.SOURCE;
            case "rolling_update" -> instanceId != null && state.list("migrated_instances").contains(instanceId)
                    ? Side.TARGET : Side.SOURCE;
            case "strangler_fig" -> enabled(state.map("features"), ctx.feature()) ? Side.TARGET : Side.SOURCE;
            case "feature_flag" -> enabled(state.map("flags"), ctx.feature())
                    && bucket(ctx) < state.number("rollout_percentage", 0) ? Side.TARGET : Side.SOURCE;
            case "geographic" -> enabled(state.map("regions"), ctx.region()) ? Side.TARGET : Side.SOURCE;
            case "time_window" -> state.flag("executed") ? Side.TARGET : Side.SOURCE;
            default -> Side.SOURCE; // shadow_traffic, big_bang before the cutover, or a type this version lacks
        };
    }

    /** The side a write transaction runs on: the authoritative one (see the class comment). */
    public Side writes() {
        return state.cutOver() ? Side.TARGET : Side.SOURCE;
    }

    /** Whether a read served by {@link #reads} is also run on the other side and compared. */
    public boolean shadowReads(TandemContext ctx) {
        if (state.cutOver() || !state.targetReady()) {
            return false;
        }
        return state.type().equals("shadow_traffic") || state.shadowReadSample() > 0
                && ThreadLocalRandom.current().nextDouble() < state.shadowReadSample();
    }

    private static boolean enabled(Map<String, Object> map, String key) {
        return key != null && Boolean.TRUE.equals(map.get(key));
    }

    /** The user's stable bucket in [0, 1); a request without a user gets a fresh random one. */
    double bucket(TandemContext ctx) {
        if (ctx.userId() == null) {
            return ThreadLocalRandom.current().nextDouble();
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((salt + "\u0000" + ctx.userId())
                    .getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 7; i++) {
                v = v << 8 | (d[i] & 0xff);
            }
            return v / (double) (1L << 56);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
