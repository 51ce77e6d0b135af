package dev.tandem.router;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The routing state the control plane publishes for a migration ({@code GET /migrations/{id}/routing}): an epoch
 * (every change increments it; routers acknowledge each), whether the cutover has flipped traffic to the target,
 * whether writes are frozen for a cutover or rollback in progress (new write transactions wait at the gate up to
 * {@code freeze_timeout_ms}), whether the target holds the data yet ({@code target_ready}: no read goes there
 * before), and seed 002's strategy with its parameters as written there. A bare strategy object
 * ({@code {"type": ...}}) or seed 002's {@code {"strategy": {...}}} parse too (epoch 0, not cut over, not frozen).
 */
public record RoutingState(long epoch, boolean cutOver, boolean frozen, long freezeTimeoutMs, boolean targetReady,
                           String type, Map<String, Object> strategy) {
    /** How long a write transaction waits at a frozen gate when the control plane does not say. */
    public static final long DEFAULT_FREEZE_TIMEOUT_MS = 5_000;
    public static final RoutingState ALL_SOURCE = new RoutingState(0, false, false, DEFAULT_FREEZE_TIMEOUT_MS,
            false, "big_bang", Map.of("type", "big_bang"));

    public RoutingState {
        strategy = Map.copyOf(strategy);
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
        return new RoutingState(epoch, cutOver, frozen, timeout, ready, type,
                new LinkedHashMap<>((Map<String, Object>) sm));
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
