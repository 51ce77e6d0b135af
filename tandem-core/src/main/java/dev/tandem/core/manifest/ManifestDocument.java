package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A manifest together with the document it was read from. The document is kept as written, before
 * {@code ${env:...}} interpolation, so storing it never stores what an environment variable held. It may still
 * hold a password written literally, so {@link #toString()} leaves it out. The reader it was read with (and so the
 * environment its references were resolved in) reads a changed version of it ({@link #reread}).
 */
public record ManifestDocument(Manifest manifest, JsonNode document, ManifestReader reader) {

    /**
     * Reads a changed version of this document (a PATCH stored while the migration runs) as this one was read.
     *
     * @throws ManifestException when it does not read
     */
    public ManifestDocument reread(JsonNode changed, String sourceName) {
        return reader.document(changed, sourceName, ManifestReader.Purpose.RUN);
    }

    @Override
    public String toString() {
        return "ManifestDocument[" + manifest + "]";
    }
}
