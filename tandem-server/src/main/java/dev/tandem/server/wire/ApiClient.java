package dev.tandem.server.wire;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLContext;

/**
 * A few calls to a tandem server's REST API (the CLI's {@code --server}, the demo's operator); each returns the
 * answer's {@code data}. A server's error answer becomes the same error (and exit code) the verb gives locally.
 */
public final class ApiClient {

    private final HttpClient http;
    private final String base;
    private final String token;

    public ApiClient(String base, String token) {
        this(base, token, null);
    }

    /** @param tls the TLS context for an https server with a private CA ({@link Pem#trusting}), or null */
    public ApiClient(String base, String token, SSLContext tls) {
        this.base = base;
        this.token = token;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        this.http = (tls == null ? b : b.sslContext(tls)).build();
    }

    public String base() {
        return base;
    }

    public JsonNode get(String path) {
        return call("GET", path, null);
    }

    public JsonNode post(String path, JsonNode body) {
        return call("POST", path, body);
    }

    public JsonNode patch(String path, JsonNode body) {
        return call("PATCH", path, body);
    }

    public JsonNode call(String method, String path, JsonNode body) {
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
        List<String> problems = new ArrayList<>();
        if (answer != null) {
            answer.path("error").path("problems").forEach(p -> problems.add(p.path("message").asText()));
        }
        throw new TandemException(code, message, problems, null);
    }
}
