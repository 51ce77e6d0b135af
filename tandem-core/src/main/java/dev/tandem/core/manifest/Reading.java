package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state of one manifest read: the problems found so far, and what is needed to show a value without leaking
 * it (the text as written before {@code ${env:...}} interpolation, and the paths that hold secrets).
 */
final class Reading {
    private final List<Problem> problems = new ArrayList<>();
    private final Map<String, String> asWritten = new HashMap<>();
    private final Set<String> secretPaths = new HashSet<>();

    void problem(String path, String value, String rule, String fix) {
        problems.add(new Problem(path, value, rule, fix));
    }

    /** Adds a problem about the value at {@code path}, shown safely. */
    void problemAt(String path, JsonNode value, String rule, String fix) {
        problem(path, display(path, value), rule, fix);
    }

    List<Problem> problems() {
        return problems;
    }

    void rememberAsWritten(String path, String original) {
        asWritten.put(path, original);
    }

    /** Whether the value at {@code path} came (in part) from {@code ${env:...}} or {@code ${file:...}}. */
    boolean interpolated(String path) {
        return asWritten.containsKey(path);
    }

    void markSecret(String path) {
        secretPaths.add(path);
    }

    /**
     * How a value appears in a problem: secrets redacted; interpolated values as written ({@code '${env:X}'}, never
     * what X holds); strings quoted; long strings shortened.
     */
    String display(String path, JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return null;
        }
        if (secretPaths.contains(path)) {
            return Secret.REDACTED;
        }
        String written = asWritten.get(path);
        if (written != null) {
            return quote(written);
        }
        if (value.isNull()) {
            return "null";
        }
        if (value.isTextual()) {
            return quote(value.asText());
        }
        if (value.isObject()) {
            return "an object";
        }
        if (value.isArray()) {
            return "a list";
        }
        return value.asText();
    }

    private static String quote(String s) {
        String shown = s.length() > 80 ? s.substring(0, 77) + "..." : s;
        return "'" + shown + "'";
    }
}
