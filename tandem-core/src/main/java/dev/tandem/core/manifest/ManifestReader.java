package dev.tandem.core.manifest;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tandem.core.error.TandemException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Reads a manifest from YAML or JSON into a {@link Manifest}, checking every rule and collecting every problem
 * before failing once with a {@link ManifestException} (never a stack trace, never just the first problem).
 * <p>Accepted shapes: DESIGN.md's manifest; seed 000's {@code migration:} block (type, initial_load, cdc,
 * conflict_resolution, continuous), whose keys may also stand at the top level; seed 002's JSON ({@code strategy}
 * with its nine types, {@code data} as {@code "none"} or an object, {@code failure_handling} as a string or an
 * object). {@code ${env:NAME}} is replaced by the environment variable NAME.
 */
public final class ManifestReader {

    /** Whether a manifest without endpoints is acceptable (seed 002 creates first and configures later). */
    public enum Purpose {
        /** A migration being created or edited: source and target may come later. */
        DRAFT,
        /** A migration about to be planned or run: source and target are required. */
        RUN
    }

    /** The longest manifest read (a 20 MB one took five minutes to refuse). */
    static final int MAX_CHARS = 1024 * 1024;

    private final Function<String, String> env;
    private final ObjectMapper json;
    private final ObjectMapper yaml;

    /**
     * @param env looks up environment variables for {@code ${env:NAME}}; {@code System::getenv} in production
     */
    public ManifestReader(Function<String, String> env) {
        this.env = env;
        this.json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        this.yaml = new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    public static ManifestReader withSystemEnvironment() {
        return new ManifestReader(System::getenv);
    }

    /** Reads a manifest file for planning or running (endpoints required). */
    public Manifest read(Path file) {
        return document(file, Purpose.RUN).manifest();
    }

    public ManifestDocument document(Path file, Purpose purpose) {
        String text;
        try {
            if (Files.size(file) > 4L * MAX_CHARS) {
                throw new ManifestException(file.toString(), List.of(new Problem("", null, "is " + Files.size(file)
                        / 1024 + " kB long; a manifest is at most " + MAX_CHARS / 1024 + " kB",
                        "check that -f names the manifest, and write only the keys it needs")));
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ManifestException(file.toString(), List.of(new Problem("", null, "is not UTF-8 text",
                    "save the manifest as UTF-8")));
        } catch (NoSuchFileException e) {
            throw TandemException.badInput("manifest file " + file + " not found (working directory "
                    + Path.of("").toAbsolutePath() + "); pass -f with the path of your manifest");
        } catch (IOException e) {
            throw TandemException.badInput("cannot read manifest file " + file + ": " + e.getMessage());
        }
        return document(text, file.toString(), purpose);
    }

    public Manifest read(String text, String sourceName, Purpose purpose) {
        return document(text, sourceName, purpose).manifest();
    }

    public ManifestDocument document(String text, String sourceName, Purpose purpose) {
        return document(parse(text, sourceName), sourceName, purpose);
    }

    /** Parses YAML or JSON (JSON when the text starts with '{') into a tree; a syntax error is a problem. */
    public JsonNode parse(String text, String sourceName) {
        if (text.length() > MAX_CHARS) {
            throw new ManifestException(sourceName, List.of(new Problem("", null, "is " + text.length() / 1024
                    + " kB long; a manifest is at most " + MAX_CHARS / 1024 + " kB", "write only the keys it needs")));
        }
        String trimmed = text.stripLeading();
        boolean isJson = trimmed.startsWith("{");
        try {
            JsonNode tree = isJson ? json.readTree(text) : yamlDocument(text, sourceName);
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                throw new ManifestException(sourceName, List.of(new Problem("", null, "is empty",
                        "write a manifest; see README.md's quick start")));
            }
            return seed001Id(tree);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ManifestException(sourceName, List.of(new Problem(where, null,
                    "is not valid " + (isJson ? "JSON" : "YAML") + ": " + e.getOriginalMessage(),
                    "fix the syntax at that position")));
        } catch (IOException e) {
            throw new ManifestException(sourceName, List.of(new Problem("", null, "cannot be read: " + e.getMessage(),
                    "fix the syntax")));
        }
    }

    /**
     * Seed 001's {@code migration_id} is the id: a document that gives it alone (or equal to {@code id}) is kept with
     * {@code id} instead, so what is stored and shown has one name for it; one that differs from {@code id} is left
     * for the reader to refuse.
     */
    static JsonNode seed001Id(JsonNode tree) {
        if (!(tree instanceof ObjectNode o) || !o.hasNonNull("migration_id")) {
            return tree;
        }
        JsonNode alias = o.get("migration_id");
        if (o.hasNonNull("id") && !o.get("id").equals(alias)) {
            return tree;
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("id", alias);
        o.properties().forEach(e -> {
            if (!e.getKey().equals("migration_id") && !e.getKey().equals("id")) {
                out.set(e.getKey(), e.getValue());
            }
        });
        return out;
    }

    /** The one YAML document of {@code text}; a second one is a problem, not silently dropped. */
    private JsonNode yamlDocument(String text, String sourceName) throws IOException {
        try (JsonParser p = yaml.getFactory().createParser(EnvRefs.protect(text))) {
            JsonNode tree = yaml.readTree(p);
            if (tree != null && p.nextToken() != null) {
                throw new ManifestException(sourceName, List.of(new Problem("line " + p.currentLocation().getLineNr(),
                        null, "is in a second YAML document; a manifest is one document",
                        "remove the '---' and what follows, or put each migration in a file of its own")));
            }
            return EnvRefs.restore(tree);
        }
    }

    /** Reads an already parsed document (a REST request body, say). */
    public ManifestDocument document(JsonNode given, String sourceName, Purpose purpose) {
        JsonNode document = seed001Id(given);
        Reading reading = new Reading();
        JsonNode tree = new Interpolation(env, reading).apply(document, "");
        Manifest m = new ManifestBuilder(reading, purpose == Purpose.RUN).build(tree);
        if (!reading.problems().isEmpty()) {
            throw new ManifestException(sourceName, reading.problems());
        }
        return new ManifestDocument(m, document, this);
    }
}
