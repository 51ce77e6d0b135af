package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.server.wire.ApiClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A manifest file handed to a server ({@code migrate}, {@code plan}, {@code verify} with {@code --server}): sent as
 * written — its {@code ${env:...}} references are resolved by the server, in the server's environment, where the
 * migration runs — and created there, or, if the server has it already and it has not started, updated (PATCH).
 */
final class RemoteManifest {
    private RemoteManifest() {
    }

    /** Creates or updates the migration on the server; returns its id. */
    static String upsert(ApiClient server, Path file, Map<String, String> env) {
        JsonNode doc;
        try {
            doc = new ManifestReader(env::get).parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw TandemException.badInput("-f " + file + ": cannot read it (" + e.getMessage() + ")");
        }
        if (!(doc instanceof ObjectNode o) || !o.path("id").isTextual()) {
            throw TandemException.badInput("-f " + file + ": expected a manifest with an id");
        }
        String id = o.get("id").asText();
        try {
            server.post("/api/v1/migrations", o);
            return id;
        } catch (TandemException e) {
            if (e.code() != ErrorCode.BAD_STATE || !e.getMessage().contains("already exists")) {
                throw e;
            }
        }
        String state = server.get("/api/v1/migrations/" + id).path("status").asText();
        if (state.equals("pending") || state.equals("ready")) {
            server.patch("/api/v1/migrations/" + id, o);
        }
        return id;
    }
}
