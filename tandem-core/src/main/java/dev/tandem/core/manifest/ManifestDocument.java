package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A manifest together with the document it was read from. The document is kept as written, before
 * {@code ${env:...}} interpolation, so storing it never stores what an environment variable held.
 */
public record ManifestDocument(Manifest manifest, JsonNode document) {
}
