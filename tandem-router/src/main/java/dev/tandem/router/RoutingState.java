package dev.tandem.router;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The routing state the control plane publishes for a migration ({@code GET /migrations/{id}/routing}): an epoch
 * (every change increments it; routers acknowledge each), whether the cutover has flipped traffic to the target,
 * whether writes are frozen for a cutover or rollback in progress (new write transactions wait at the gate up to
 * {@code freeze_timeout_ms}), whether the target holds the data yet ({@code target_ready}: no read goes there
 * before), seed 002's strategy with its parameters as written there, and the fraction of reads repeated on the other
 * side and compared ({@code shadow_read_sample}, the manifest's {@code validation.shadow_reads.sample}; under
 * {@code shadow_traffic} every read is), and seed 002's APIs of the migration ({@code apis}: when any is listed, only
 * requests whose context names one of them as its feature are routed by the strategy). A bare strategy object
 * ({@code {"type": ...}}) or seed 002's {@code {"strategy": {...}}} parse too (epoch 0, not cut over, not frozen).
 */
public record RoutingState(long epoch, boolean cutOver, boolean frozen, long freezeTimeoutMs, boolean targetReady,
                           String type, Map<String, Object> strategy, double shadowReadSample, List<String> apis) {
    /** How long a write transaction waits at a frozen gate when the control plane does not say. */
    public static final long DEFAULT_FREEZE_TIMEOUT_MS = 5_000;
    public static final RoutingState ALL_SOURCE = new RoutingState(0, false, false, DEFAULT_FREEZE_TIMEOUT_MS,
            false, "big_bang", Map.of("type", "big_bang"), 0, List.of());

    public RoutingState {
        strategy = Map.copyOf(strategy);
        apis = List.copyOf(apis);
    }

    /** @throws IllegalArgumentException for JSON that is not a routing state, naming what is wrong */
    public static RoutingState parse(String json) {
        return from(JsonReader.parse(json));
    }

    /** From parsed JSON ({@link JsonReader}). */
    @SuppressWarnings("unchecked")
    static RoutingState from(Object root) {
        if (!(root instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("routing state: expected a JSON object");
        }
        Map<String, Object> top = (Map<String, Object>) m;
        Object s = top.containsKey("strategy") ? top.get("strategy") : top;
        if (!(s instanceof Map<?, ?> sm) || !(sm.get("type") instanceof String type)) {
            throw new IllegalArgumentException("routing state: expected strategy.type");
        }
        long epoch = top.get("epoch") instanceof Double d ? d.longValue() : 0;
        boolean cutOver = Boolean.TRUE.equals(top.get("cut_over"));
        boolean frozen = Boolean.TRUE.equals(top.get("frozen"));
        long timeout = top.get("freeze_timeout_ms") instanceof Double d ? d.longValue() : DEFAULT_FREEZE_TIMEOUT_MS;
        // the control plane says whether the target holds the data yet (copy done, stream running); a bare strategy
        // (the seed's examples) is taken as ready
        boolean ready = !(top.get("target_ready") instanceof Boolean b) || b;
        double sample = top.get("shadow_read_sample") instanceof Double d ? Math.max(0, Math.min(1, d)) : 0;
        List<String> apis = new ArrayList<>();
        if (top.get("apis") instanceof List<?> l) {
            l.stream().filter(String.class::isInstance).map(String.class::cast).forEach(apis::add);
        }
        return new RoutingState(epoch, cutOver, frozen, timeout, ready, type,
                new LinkedHashMap<>((Map<String, Object>) sm), sample, apis);
    }

    double number(String key, double otherwise) {
        return strategy.get(key) instanceof Double d ? d : otherwise;
    }

    boolean flag(String key) {
        return Boolean.TRUE.equals(strategy.get(key));
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> map(String key) {
        return strategy.get(key) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    List<Object> list(String key) {
        return strategy.get(key) instanceof List<?> l ? (List<Object>) l : List.of();
    }

    Instant instant(String key) {
        return strategy.get(key) instanceof String s ? Instant.parse(s) : null;
    }
}
