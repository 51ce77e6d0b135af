package dev.tandem.core.migrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestException;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.MigrationRecord;
import java.util.function.Consumer;

/**
 * The manifest of a running migration as it is stored now. While a migration runs, a PATCH may change how it is
 * watched and routed — {@code abort_thresholds}, {@code alerting}, {@code validation}, {@code strategy} (the REST
 * API refuses every other key with a 409) — and the process running it must act on the change, not on the manifest
 * it started with: {@link #now} re-reads the stored document when it changed, as the run's own document was read
 * (same environment for its references), and the phases compare the sections they use about once a second: new
 * abort thresholds and alert rules apply from the next check, a new validation restarts continuous verification,
 * a new time window holds at the cutover. A stored manifest that no longer reads (impossible through the API, which
 * checks a PATCH) keeps the last one that did, said once.
 */
final class LivePolicies {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ControlStore store;
    private final String id;
    private final Consumer<String> say;
    private ManifestDocument current;
    private String currentJson;
    private String refused;

    LivePolicies(ControlStore store, ManifestDocument started, Consumer<String> say) {
        this.store = store;
        this.id = started.manifest().id();
        this.say = say;
        this.current = started;
        this.currentJson = json(started);
    }

    /** The manifest as stored now (read again only when the stored document changed). */
    synchronized Manifest now() {
        String stored = store.migrations().find(id).map(MigrationRecord::manifest).orElse(currentJson);
        if (stored.equals(currentJson) || stored.equals(refused)) {
            return current.manifest();
        }
        try {
            current = current.reread(JSON.readTree(stored), "the stored manifest of " + id);
            currentJson = stored;
        } catch (ManifestException | JsonProcessingException e) {
            refused = stored;
            say.accept("warning: the stored manifest of " + id + " changed but does not read, so the running "
                    + "migration keeps its previous policies: " + e.getMessage());
        }
        return current.manifest();
    }

    private static String json(ManifestDocument doc) {
        try {
            return JSON.writeValueAsString(doc.document());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
