package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A manifest together with the document it was read from. The document is kept as written, before
 * {@code ${env:...}} interpolation, so storing it never stores what an environment variable held. It may still
 * hold a password written literally, so {@link #toString()} leaves it out.
 */
public record ManifestDocument(Manifest manifest, JsonNode document) {

    @Override
    public String toString() {
        return "ManifestDocument[" + manifest + "]";
    }
}
