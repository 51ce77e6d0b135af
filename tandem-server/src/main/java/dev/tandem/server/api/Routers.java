package dev.tandem.server.api;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The routers following each migration and the epoch each last acknowledged, as they report it on every poll. Kept
 * in memory: a restarted server learns them again within one poll.
 */
final class Routers {
    record Ack(long epoch, Instant at) {
    }

    private final Map<String, Map<String, Ack>> byMigration = new ConcurrentHashMap<>();

    void ack(String migrationId, String routerId, long epoch) {
        byMigration.computeIfAbsent(migrationId, k -> new ConcurrentHashMap<>()).put(routerId,
                new Ack(epoch, Instant.now()));
    }

    /** By router id. */
    Map<String, Ack> of(String migrationId) {
        return new TreeMap<>(byMigration.getOrDefault(migrationId, Map.of()));
    }
}
