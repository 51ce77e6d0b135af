package dev.tandem.server.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.server.wire.Json;
import io.javalin.http.sse.SseClient;
import java.time.Instant;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-sent event stream ({@code GET /api/v1/events}) the dashboard follows: state changes, progress lines,
 * alerts. Each event is {@code {seq, at, migration_id, type, data}}; a client that falls behind or disconnects is
 * dropped (it reads the current state from the REST API when it reconnects). Nothing here ever carries a secret:
 * publishers pass scrubbed text only.
 */
final class Events {
    private final CopyOnWriteArrayList<SseClient> clients = new CopyOnWriteArrayList<>();
    private final AtomicLong seq = new AtomicLong();

    synchronized void join(SseClient client) {
        client.keepAlive();
        client.onClose(() -> clients.remove(client));
        clients.add(client);
        ObjectNode hello = Json.MAPPER.createObjectNode();
        hello.put("seq", seq.get());
        client.sendEvent("hello", hello.toString(), "0");
    }

    /**
     * @param type e.g. {@code state}, {@code progress}, {@code log}, {@code alert}
     *             <p>Synchronized: migrations publish from their own threads, and a client's stream takes one event
     *             at a time.
     */
    synchronized void publish(String migrationId, String type, ObjectNode data) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("seq", seq.incrementAndGet());
        e.put("at", Instant.now().toString());
        e.put("migration_id", migrationId);
        e.put("type", type);
        e.set("data", data);
        String text = e.toString();
        for (SseClient c : clients) {
            try {
                c.sendEvent(type, text, String.valueOf(e.get("seq").asLong()));
            } catch (RuntimeException ex) {
                clients.remove(c);
            }
        }
    }

    void log(String migrationId, String line) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("line", line);
        publish(migrationId, "log", d);
    }

    int clients() {
        return clients.size();
    }

    void close() {
        for (SseClient c : clients) {
            try {
                c.close();
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
        clients.clear();
    }
}
