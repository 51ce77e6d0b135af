package dev.tandem.core.cutover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a cutover, rollback or cleanup did: each step with its time, how it ended (and where it failed), the freeze
 * and the write pause the routers measured. A typed record everywhere inside Tandem; JSON only at the edge — stored
 * with the routing state, answered by the REST API and printed by {@code --json} — in one shape ({@link #toJson},
 * {@link #of}).
 *
 * @param procedure    {@code cutover}, {@code rollback} or {@code cleanup}
 * @param failedStep   the step that failed, or null
 * @param freeze       the freeze, or null when the procedure never froze writes
 * @param verification what the cutover compared while frozen, or null
 * @param sequences    the sequences set, as the schema copier described them
 * @param writePause   every blocked transaction's wait, as the routers reported it, or null
 * @param warning      something the operator should know (no live router), or null
 * @param state        for a cleanup, the migration's state after it; else null
 */
public record CutoverReport(String procedure, String requestedBy, Instant at, List<Step> steps, boolean completed,
                            String failedStep, String error, long totalMs, Freeze freeze, Verification verification,
                            List<String> sequences, WritePause.Summary writePause, String warning, String state) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One step and how long it took. */
    public record Step(String step, double ms) {
    }

    /**
     * @param frozenEpoch  the routing epoch that froze writes
     * @param routers      the live routers waited for, by id (what the operator checks against the fleet: a
     *                     router missing here did not hold its writes during the freeze)
     * @param flippedEpoch the epoch that flipped routing, or null when the procedure failed first
     * @param freezeMs     how long writes were frozen, or null when the procedure failed first
     */
    public record Freeze(long frozenEpoch, List<String> routers, Long flippedEpoch, Double freezeMs) {
        public Freeze {
            routers = List.copyOf(routers);
        }
    }

    /**
     * @param verifiedRows applied rows compared while frozen
     * @param keysQueued   applied rows waiting to be compared when the freeze began, or null
     * @param note         why rows were not (all) compared, or null
     */
    public record Verification(long verifiedRows, Long keysQueued, String note) {
    }

    /** A cleanup's report: no steps, the migration's state after it. */
    public static CutoverReport cleanup(String state) {
        return new CutoverReport("cleanup", null, Instant.now(), List.of(), true, null, null, 0, null, null, List.of(),
                null, null, state);
    }

    /** The report as JSON: {@code procedure, requested_by, at, steps[{step, ms}], outcome, ...}. */
    public ObjectNode toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("procedure", procedure);
        if (requestedBy != null) {
            n.put("requested_by", requestedBy);
        }
        n.put("at", at.toString());
        ArrayNode s = n.putArray("steps");
        steps.forEach(x -> s.addObject().put("step", x.step()).put("ms", x.ms()));
        n.put("outcome", completed ? "completed" : "failed");
        if (!completed) {
            n.put("failed_step", failedStep);
            n.put("error", error);
        }
        n.put("total_ms", totalMs);
        if (freeze != null) {
            n.put("frozen_epoch", freeze.frozenEpoch());
            n.put("routers", freeze.routers().size());
            ArrayNode ids = n.putArray("router_ids");
            freeze.routers().forEach(ids::add);
            if (freeze.flippedEpoch() != null) {
                n.put("flipped_epoch", freeze.flippedEpoch());
                n.put("freeze_ms", freeze.freezeMs());
            }
        }
        if (verification != null) {
            n.put("verified_rows", verification.verifiedRows());
            if (verification.keysQueued() != null) {
                n.put("verify_keys_queued", verification.keysQueued());
            }
            if (verification.note() != null) {
                n.put("verify_note", verification.note());
            }
        }
        if (!sequences.isEmpty()) {
            ArrayNode q = n.putArray("sequences");
            sequences.forEach(q::add);
        }
        if (writePause != null) {
            n.set("write_pause", writePause.toJson());
        }
        if (warning != null) {
            n.put("warning", warning);
        }
        if (state != null) {
            n.put("state", state);
        }
        return n;
    }

    /** A report as {@link #toJson} wrote it (the routing state keeps the last one). */
    public static CutoverReport of(JsonNode n) {
        List<Step> steps = new ArrayList<>();
        n.path("steps").forEach(x -> steps.add(new Step(x.path("step").asText(), x.path("ms").asDouble())));
        List<String> sequences = new ArrayList<>();
        n.path("sequences").forEach(x -> sequences.add(x.asText()));
        List<String> routers = new ArrayList<>();
        n.path("router_ids").forEach(x -> routers.add(x.asText()));
        Freeze freeze = n.has("frozen_epoch") ? new Freeze(n.path("frozen_epoch").asLong(), routers,
                n.has("flipped_epoch") ? n.path("flipped_epoch").asLong() : null,
                n.has("freeze_ms") ? n.path("freeze_ms").asDouble() : null) : null;
        Verification v = n.has("verified_rows") ? new Verification(n.path("verified_rows").asLong(),
                n.has("verify_keys_queued") ? n.path("verify_keys_queued").asLong() : null, text(n, "verify_note"))
                : null;
        return new CutoverReport(n.path("procedure").asText(), text(n, "requested_by"),
                Instant.parse(n.path("at").asText()), List.copyOf(steps), "completed".equals(n.path("outcome")
                .asText()), text(n, "failed_step"), text(n, "error"), n.path("total_ms").asLong(), freeze, v,
                List.copyOf(sequences), n.has("write_pause") ? WritePause.Summary.of(n.path("write_pause")) : null,
                text(n, "warning"), text(n, "state"));
    }

    /** For people: the steps with their times, and how it ended. */
    public String describe() {
        StringBuilder b = new StringBuilder(procedure).append(completed ? " completed" : " failed at step "
                + failedStep + ": " + error);
        steps.forEach(s -> b.append(String.format(java.util.Locale.ROOT, "; %s %.1f ms", s.step(), s.ms())));
        return b.toString();
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
