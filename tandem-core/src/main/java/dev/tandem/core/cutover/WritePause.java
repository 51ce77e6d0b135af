package dev.tandem.core.cutover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Routing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The routers' side of a freeze: waiting until every live router acknowledged an epoch (it does so once its write
 * transactions in flight drained), and, after the flip, the write pause they measured — every blocked transaction's
 * wait, gathered from their acknowledgements of the flip: p50, p99 and max over all of them.
 */
public final class WritePause {
    /** How long to wait for routers to acknowledge the flip (and report their write pauses) after it. */
    private static final Duration FLIP_ACKS = Duration.ofSeconds(3);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ControlStore store;
    private final String migrationId;

    WritePause(ControlStore store, String migrationId) {
        this.store = store;
        this.migrationId = migrationId;
    }

    /** Every blocked transaction's wait over all routers that reported the freeze, in milliseconds. */
    public record Summary(int routersReporting, long blockedTransactions, long timeouts, double p50Ms, double p99Ms,
                          double maxMs) {
        public ObjectNode toJson() {
            ObjectNode n = JSON.createObjectNode();
            n.put("routers_reporting", routersReporting);
            n.put("blocked_transactions", blockedTransactions);
            n.put("timeouts", timeouts);
            n.put("p50_ms", p50Ms);
            n.put("p99_ms", p99Ms);
            n.put("max_ms", maxMs);
            return n;
        }

        static Summary of(JsonNode n) {
            return new Summary(n.path("routers_reporting").asInt(), n.path("blocked_transactions").asLong(),
                    n.path("timeouts").asLong(), n.path("p50_ms").asDouble(), n.path("p99_ms").asDouble(),
                    n.path("max_ms").asDouble());
        }
    }

    /** Null when every router in {@code live} acknowledged {@code epoch} before {@code deadline}; else who did not. */
    String awaitAcks(List<String> live, long epoch, long deadline) throws InterruptedException {
        Set<String> wanted = new HashSet<>(live);
        while (true) {
            List<String> behind = new ArrayList<>();
            for (Routing.Router r : store.routing().routers(migrationId)) {
                if (wanted.contains(r.routerId()) && r.epoch() < epoch) {
                    behind.add(r.routerId() + " (at epoch " + r.epoch() + ")");
                }
            }
            if (behind.isEmpty()) {
                return null;
            }
            if (System.nanoTime() > deadline) {
                return String.join(", ", behind);
            }
            store.awaitChange(2);
        }
    }

    /** The freeze at {@code frozenEpoch} as the routers measured it, once they acknowledged the flip (up to 3 s). */
    Summary after(List<String> live, long frozenEpoch, long flipEpoch) throws InterruptedException {
        awaitAcks(live, flipEpoch, System.nanoTime() + FLIP_ACKS.toNanos());
        List<Long> waits = new ArrayList<>();
        long blocked = 0;
        long timeouts = 0;
        int reporting = 0;
        long maxMicros = 0;
        for (Routing.Router r : store.routing().routers(migrationId)) {
            JsonNode p = r.report() == null ? null : r.report().get("write_pause");
            if (p == null || p.path("frozen_epoch").asLong() != frozenEpoch) {
                continue;
            }
            reporting++;
            blocked += p.path("blocked").asLong();
            timeouts += p.path("timeouts").asLong();
            p.path("waits_us").forEach(w -> waits.add(w.asLong()));
            maxMicros = Math.max(maxMicros, p.path("max_us").asLong(0)); // routers sample past 5,000 waits
        }
        long[] sorted = waits.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        if (sorted.length > 0) {
            maxMicros = Math.max(maxMicros, sorted[sorted.length - 1]);
        }
        return new Summary(reporting, blocked, timeouts, percentile(sorted, 0.50), percentile(sorted, 0.99),
                maxMicros / 1000.0);
    }

    static double percentile(long[] sortedMicros, double p) {
        if (sortedMicros.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p * sortedMicros.length) - 1;
        return sortedMicros[Math.max(0, Math.min(sortedMicros.length - 1, i))] / 1000.0;
    }
}
