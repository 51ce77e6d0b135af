package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --server URL} and {@code --token TOKEN} for the verbs that can talk to a running {@code tandem server}
 * instead of the control store (DESIGN.md CLI). The token is best given as {@code $TANDEM_TOKEN} (a command line is
 * visible to other users); the server's URL may come from {@code $TANDEM_SERVER}. A server's error answer becomes
 * the same error (and exit code) the verb gives locally.
 */
final class Remote {
    @Option(names = "--server", paramLabel = "URL",
            description = "Talk to this tandem server (e.g. http://ctl:8000) instead of the control store "
                    + "(default: $TANDEM_SERVER).")
    String server;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Bearer token for --server (default: $TANDEM_TOKEN, which keeps it out of ps).")
    String token;

    /** A connection to the server, when one was asked for. */
    Optional<Client> client(Map<String, String> env) {
        String url = server != null ? server : env.get("TANDEM_SERVER");
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        String t = token != null ? token : env.get("TANDEM_TOKEN");
        String base = url.trim().replaceAll("/+$", "");
        try {
            URI u = URI.create(base);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL with a host");
            }
        } catch (IllegalArgumentException e) {
            throw TandemException.badInput("--server " + url + ": " + e.getMessage() + "; give the server's URL, "
                    + "e.g. http://ctl:8000");
        }
        return Optional.of(new Client(base, t));
    }

    /** A few calls to the REST API; each returns the answer's {@code data}. */
    static final class Client {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        private final String base;
        private final String token;

        Client(String base, String token) {
            this.base = base;
            this.token = token;
        }

        String base() {
            return base;
        }

        JsonNode get(String path) {
            return call("GET", path, null);
        }

        JsonNode post(String path, JsonNode body) {
            return call("POST", path, body);
        }

        JsonNode patch(String path, JsonNode body) {
            return call("PATCH", path, body);
        }

        JsonNode call(String method, String path, JsonNode body) {
            // base was checked; path is built by Tandem, ids included (ids are [A-Za-z0-9_.-])
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(3))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.toString()));
            if (token != null && !token.isBlank()) {
                b.header("Authorization", "Bearer " + token);
            }
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            HttpResponse<String> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException | IllegalArgumentException e) {
                throw TandemException.badInput("--server " + base + ": cannot reach it (" + e.getMessage() + "); is "
                        + "tandem server running there?");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TandemException(ErrorCode.BAD_STATE, "interrupted while waiting for " + base, e);
            }
            JsonNode answer;
            try {
                answer = Json.MAPPER.readTree(r.body());
            } catch (IOException e) {
                answer = null;
            }
            if (r.statusCode() / 100 == 2 && answer != null) {
                return answer.path("data");
            }
            String message = answer == null ? "HTTP " + r.statusCode() : answer.path("error").path("message")
                    .asText("HTTP " + r.statusCode());
            if (r.statusCode() == 401) {
                message += " (give the token with $TANDEM_TOKEN or --token)";
            }
            ErrorCode code = ErrorCode.BAD_INPUT;
            if (answer != null) {
                try {
                    code = ErrorCode.valueOf(answer.path("error").path("code").asText().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    code = r.statusCode() >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_INPUT;
                }
            }
            java.util.List<String> problems = new java.util.ArrayList<>();
            if (answer != null) {
                answer.path("error").path("problems").forEach(p -> problems.add(p.path("message").asText()));
            }
            throw new TandemException(code, message, problems, null);
        }
    }
}
