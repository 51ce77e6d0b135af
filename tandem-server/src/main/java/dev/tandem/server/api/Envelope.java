package dev.tandem.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.migrate.PhaseGates;
import dev.tandem.server.wire.Json;
import io.javalin.http.Context;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seed 002's response envelope, written once for every route: {@code {"status": "success", "data": ...}}, or
 * {@code {"status": "error", "error": {code, message, problems, ...}}} with the HTTP status the error's code names.
 */
final class Envelope {
    private static final Logger LOG = LoggerFactory.getLogger(Envelope.class);

    private Envelope() {
    }

    /** An error whose HTTP status is not its code's (401, 403). */
    static final class ApiError extends TandemException {
        final int status;

        ApiError(int status, ErrorCode code, String message) {
            super(code, message);
            this.status = status;
        }
    }

    /** Seed 002's success document: {@code {"status": "success", "data": ...}}. */
    static void ok(Context ctx, JsonNode data) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("status", "success");
        root.set("data", data);
        ctx.json(root);
    }

    /** A failure as seed 002's error document, with the HTTP status its code (or an ApiError) says. */
    static void error(Context ctx, TandemException e) {
        int status = e instanceof ApiError a ? a.status : e.code().httpStatus();
        ArrayNode problems;
        if (e instanceof ManifestException me) {
            problems = (ArrayNode) Json.problems(me).get("problems");
        } else {
            ArrayNode messages = Json.MAPPER.createArrayNode();
            e.problems().forEach(p -> messages.addObject().put("message", p));
            problems = messages;
        }
        ObjectNode extra = null;
        if (e instanceof PhaseGates.GateClosed g) {
            extra = Json.MAPPER.createObjectNode();
            extra.put("gate", g.gate());
            extra.put("expected", g.expected());
            extra.put("actual", g.actual());
        }
        if (status >= 500) {
            LOG.warn("{} {}: {}", ctx.method(), ctx.path(), e.getMessage());
        }
        error(ctx, status, e.code(), e.getMessage(), problems, extra);
    }

    static void error(Context ctx, int status, ErrorCode code, String message, ArrayNode problems,
                      ObjectNode extra) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("status", "error");
        ObjectNode err = root.putObject("error");
        err.put("code", code.name().toLowerCase(Locale.ROOT));
        err.put("message", message);
        if (extra != null) {
            err.setAll(extra);
        }
        err.set("problems", problems == null ? Json.MAPPER.createArrayNode() : problems);
        ctx.status(status);
        ctx.json(root);
    }
}
