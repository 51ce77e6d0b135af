package dev.tandem.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/** A client of the REST control plane for tests: one call, its status and its JSON body. */
final class Api {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client;
    private final String base;

    /** @param base e.g. {@code http://127.0.0.1:8000} */
    Api(String base) {
        this(base, null);
    }

    /** @param tls for an https base whose CA the JVM does not trust, else null */
    Api(String base, javax.net.ssl.SSLContext tls) {
        this.base = base;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .version(HttpClient.Version.HTTP_1_1);
        this.client = (tls == null ? b : b.sslContext(tls)).build();
    }

    /** The same request, sent without waiting for the answer. */
    java.util.concurrent.CompletableFuture<Response> send(String method, String path, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(180))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString())
                .thenApply(r -> new Response(r.statusCode(), r.body()));
    }

    record Response(int status, String text) {
        JsonNode json() {
            try {
                return JSON.readTree(text);
            } catch (IOException e) {
                throw new AssertionError("not JSON (" + status + "): " + text, e);
            }
        }

        JsonNode data() {
            return json().path("data");
        }

        @Override
        public String toString() {
            return status + " " + text;
        }
    }

    static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    Response call(String method, String path, String token, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(180))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Response(r.statusCode(), r.body());
    }

    /** Polls {@code GET path} until {@code done} holds for its data; fails after {@code seconds}. */
    JsonNode await(String path, String token, int seconds, String what, Predicate<JsonNode> done)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        Response last = null;
        while (System.nanoTime() < deadline) {
            last = call("GET", path, token, null);
            if (last.status() == 200 && done.test(last.data())) {
                return last.data();
            }
            Thread.sleep(200);
        }
        throw new AssertionError(what + " did not happen within " + seconds + " s; last answer: " + last);
    }
}
