package dev.tandem.server.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.server.wire.Json;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.security.RouteRole;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code GET /api/v1/openapi.json}: an OpenAPI 3.0 document built from the server's own route table, so it lists
 * exactly the operations the server has, with the role each needs (bearer token) and the seed 002 envelope.
 */
final class OpenApi {
    private static final Pattern PARAM = Pattern.compile("\\{([a-z_]+)}");

    private OpenApi() {
    }

    static ObjectNode document(List<Route> routes, String base) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("openapi", "3.0.3");
        ObjectNode info = root.putObject("info");
        info.put("title", "Tandem control plane");
        info.put("version", "v1");
        info.put("description", "Responses are {\"status\":\"success\",\"data\":...} or {\"status\":\"error\","
                + "\"error\":{\"code\",\"message\",\"problems\":[{path,value,rule,fix,message}]}}. "
                + "Roles: admin (everything), read (every GET), router (follow /routing and acknowledge it).");
        root.putObject("components").putObject("securitySchemes").putObject("bearer").put("type", "http")
                .put("scheme", "bearer");
        ObjectNode paths = root.putObject("paths");
        for (Route r : routes) {
            ObjectNode path = paths.has(r.path()) ? (ObjectNode) paths.get(r.path()) : paths.putObject(r.path());
            ObjectNode op = path.putObject(r.method().name().toLowerCase(Locale.ROOT));
            op.put("summary", r.summary());
            op.put("x-role", r.roles().stream().map(x -> x.toString().toLowerCase(Locale.ROOT)).sorted()
                    .collect(java.util.stream.Collectors.joining(" or ")));
            if (r.roles().stream().noneMatch(x -> x.toString().equals("public"))) {
                op.putArray("security").addObject().putArray("bearer");
            }
            Matcher m = PARAM.matcher(r.path());
            while (m.find()) {
                ObjectNode p = op.withArray("parameters").addObject();
                p.put("name", m.group(1));
                p.put("in", "path");
                p.put("required", true);
                p.putObject("schema").put("type", "string");
            }
            ObjectNode responses = op.putObject("responses");
            responses.putObject("200").put("description", "success");
            responses.putObject("400").put("description", "bad input: every problem with path, value, rule, fix");
            responses.putObject("401").put("description", "no or unknown bearer token");
            responses.putObject("403").put("description", "a token whose role may not call this operation");
            responses.putObject("404").put("description", "no such migration or run");
            responses.putObject("409").put("description", "not in this state: expected and actual state, or the gate");
        }
        return root;
    }

    /** One operation: what the OpenAPI document lists and what the auth check enforces. */
    record Route(HandlerType method, String path, Set<? extends RouteRole> roles, String summary, Handler handler) {
    }
}
