package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cursor over one object of the manifest at a path. Every getter checks the value's type and range, records a
 * {@link Problem} (path, value, rule, fix) instead of throwing, and returns the default or null so reading goes on
 * and every problem is found in one pass. {@link #finish()} reports keys nobody asked for, with a did-you-mean.
 */
final class Section {
    /** The keys a section may hold, in the order problems name them. */
    static Set<String> keys(String... keys) {
        return new LinkedHashSet<>(List.of(keys));
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?");

    private final JsonNode node;
    private final String path;
    private final Reading reading;
    private final Set<String> allowed;
    private final Set<String> handled = new LinkedHashSet<>();
    /** The value was not an object: that is reported once, and nothing inside it is reported as missing. */
    private final boolean broken;

    private Section(JsonNode node, String path, Reading reading, Set<String> allowed, boolean broken) {
        this.broken = broken;
        this.node = node;
        this.path = path;
        this.reading = reading;
        this.allowed = allowed;
    }

    /** A section over {@code node}; when it is not an object a problem is recorded and the section reads empty. */
    static Section of(JsonNode node, String path, Reading reading, String what, Set<String> allowed) {
        if (node != null && !node.isObject()) {
            reading.problemAt(path, node, "is not an object", what);
            return new Section(MissingNode.getInstance(), path, reading, allowed, true);
        }
        return new Section(node == null ? MissingNode.getInstance() : node, path, reading, allowed, false);
    }

    String path() {
        return path;
    }

    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    Reading reading() {
        return reading;
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    /** The raw value, or null when absent or null. Marks the key as handled. */
    JsonNode get(String key) {
        handled.add(key);
        JsonNode v = node.get(key);
        return v == null || v.isNull() ? null : v;
    }

    Section section(String key, String what, Set<String> keys) {
        JsonNode v = get(key);
        return v == null ? null : of(v, pathOf(key), reading, what, keys);
    }

    String text(String key) {
        JsonNode v = get(key);
        if (v == null) {
            return null;
        }
        if (!v.isValueNode()) {
            reading.problemAt(pathOf(key), v, "is not a single value", "write it as text");
            return null;
        }
        return v.asText();
    }

    String requiredText(String key, String fix) {
        String t = text(key);
        if (t == null && !has(key) && !broken) { // absent or null
            reading.problem(pathOf(key), null, "missing", fix);
        } else if (t != null && t.isBlank()) {
            reading.problem(pathOf(key), "''", "is empty", fix);
            return null;
        }
        return t;
    }

    /** Like {@link #text} but the value is a secret: it is never shown, not even in a problem. */
    Secret secret(String key) {
        reading.markSecret(pathOf(key));
        String t = text(key);
        return t == null ? null : Secret.of(t);
    }

    <E extends Enum<E>> E enumOf(String key, Class<E> type, E dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        return enumValue(pathOf(key), v, type, dflt);
    }

    <E extends Enum<E>> E enumValue(String at, JsonNode v, Class<E> type, E dflt) {
        List<String> names = Enums.wireNames(type);
        if (!v.isTextual()) {
            reading.problemAt(at, v, "is not a name", "use one of " + String.join(", ", names));
            return dflt;
        }
        E e = Enums.parse(type, v.asText());
        if (e == null) {
            reading.problemAt(at, v, "is unknown", DidYouMean.hint(v.asText(), names));
            return dflt;
        }
        return e;
    }

    Boolean bool(String key, Boolean dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isBoolean()) {
            reading.problemAt(pathOf(key), v, "is not true or false", "use true or false (no quotes)");
            return dflt;
        }
        return v.asBoolean();
    }

    /** A fraction from 0.0 to 1.0 (seed 002's percentages are fractions). */
    Double fraction(String key, Double dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        return fractionValue(pathOf(key), v, dflt);
    }

    private Double fractionValue(String at, JsonNode v, Double dflt) {
        if (!v.isNumber()) {
            reading.problemAt(at, v, "is not a number", "use a fraction from 0.0 to 1.0, such as 0.05 for 5%");
            return dflt;
        }
        double d = v.asDouble();
        if (d < 0.0 || d > 1.0 || Double.isNaN(d)) {
            String fix = "use 0.0 to 1.0";
            if (d >= 2.0 && d <= 100.0 && d == Math.rint(d)) {
                // Someone wrote a percentage: 5 meant 5%, which is 0.05.
                fix += " (" + (long) d + "% is " + (d / 100.0) + ")";
            }
            reading.problemAt(at, v, "is out of range", fix);
            return dflt;
        }
        return d;
    }

    Long integer(String key, long min, long max, Long dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            reading.problemAt(pathOf(key), v, "is not a whole number", "use a whole number from " + min + " to " + max);
            return dflt;
        }
        long l = v.asLong();
        if (l < min || l > max) {
            reading.problemAt(pathOf(key), v, "is out of range", "use " + min + " to " + max);
            return dflt;
        }
        return l;
    }

    Double number(String key, double min, Double dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        if (!v.isNumber()) {
            reading.problemAt(pathOf(key), v, "is not a number", "use a number of at least " + min);
            return dflt;
        }
        double d = v.asDouble();
        if (d < min || Double.isNaN(d)) {
            reading.problemAt(pathOf(key), v, "is out of range", "use a number of at least " + min);
            return dflt;
        }
        return d;
    }

    /** {@code 30s}, {@code 5m}, {@code 1h}, {@code 250ms}, {@code 1d}, or a plain number of seconds. */
    Duration duration(String key, Duration dflt) {
        JsonNode v = get(key);
        if (v == null) {
            return dflt;
        }
        String fix = "use a number with a unit, such as 500ms, 30s, 5m or 1h";
        if (v.isNumber()) {
            if (v.asDouble() <= 0) {
                reading.problemAt(pathOf(key), v, "is not positive", fix);
                return dflt;
            }
            return Duration.ofMillis(Math.round(v.asDouble() * 1000));
        }
        Matcher m = v.isTextual() ? DURATION.matcher(v.asText().trim()) : null;
        if (m == null || !m.matches()) {
            reading.problemAt(pathOf(key), v, "is not a duration", fix);
            return dflt;
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double millis = switch (unit) {
            case "ms" -> amount;
            case "s" -> amount * 1_000;
            case "m" -> amount * 60_000;
            case "h" -> amount * 3_600_000;
            default -> amount * 86_400_000;
        };
        if (millis <= 0) {
            reading.problemAt(pathOf(key), v, "is not positive", fix);
            return dflt;
        }
        return Duration.ofMillis(Math.round(millis));
    }

    Instant instant(String key, boolean required, String fix) {
        JsonNode v = get(key);
        if (v == null) {
            if (required && !broken) {
                reading.problem(pathOf(key), null, "missing", fix);
            }
            return null;
        }
        try {
            if (!v.isTextual()) {
                throw new DateTimeParseException("not text", v.asText(), 0);
            }
            return Instant.parse(v.asText());
        } catch (DateTimeParseException e) {
            reading.problemAt(pathOf(key), v, "is not an ISO 8601 time", "use UTC like 2024-01-15T02:00:00Z");
            return null;
        }
    }

    /** A list of texts; null when absent. */
    List<String> textList(String key) {
        JsonNode v = get(key);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            reading.problemAt(pathOf(key), v, "is not a list", "write a list, such as [a, b]");
            return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            if (!item.isValueNode() || item.isNull() || item.asText().isBlank()) {
                reading.problemAt(pathOf(key) + "[" + i + "]", item, "is not a name", "write a non-empty text");
            } else {
                out.add(item.asText());
            }
        }
        return out;
    }

    /** A list of objects to read one by one; null when absent. */
    List<JsonNode> list(String key) {
        JsonNode v = get(key);
        if (v == null) {
            return null;
        }
        if (!v.isArray()) {
            reading.problemAt(pathOf(key), v, "is not a list", "write a list of entries");
            return null;
        }
        List<JsonNode> out = new ArrayList<>();
        v.forEach(out::add);
        return out;
    }

    /** Seed 002's maps of names to migration status ({@code features}, {@code flags}, {@code regions}). */
    Map<String, Boolean> boolMap(String key, boolean required, String fix) {
        JsonNode v = get(key);
        if (v == null) {
            if (required && !broken) {
                reading.problem(pathOf(key), null, "missing", fix);
            }
            return null;
        }
        if (!v.isObject()) {
            reading.problemAt(pathOf(key), v, "is not a map", fix);
            return null;
        }
        Map<String, Boolean> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isBoolean()) {
                reading.problemAt(pathOf(key) + "." + e.getKey(), e.getValue(), "is not true or false", fix);
            } else {
                out.put(e.getKey(), e.getValue().asBoolean());
            }
        }
        if (required && out.isEmpty() && v.isEmpty()) {
            reading.problem(pathOf(key), "{}", "is empty", fix);
        }
        return out;
    }

    /** Reports {@code key} as missing when nothing was read for it and nothing else was said about it. */
    void requirePresent(String key, Object valueRead, String fix) {
        if (valueRead == null && !has(key) && !broken) {
            reading.problem(pathOf(key), null, "missing", fix);
        }
    }

    /** Marks a key as handled without reading it (the caller reported it another way). */
    void skip(String key) {
        handled.add(key);
    }

    /** Keys present that no getter asked for. */
    List<String> unhandledKeys() {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(k -> {
            if (!handled.contains(k)) {
                out.add(k);
            }
        });
        return out;
    }

    /** Reports every key that is neither allowed nor handled, with the closest allowed key. */
    void finish() {
        for (String k : unhandledKeys()) {
            if (!allowed.contains(k)) {
                String where = path.isEmpty() ? "the manifest" : path;
                reading.problem(pathOf(k), null, "is not a known key of " + where, DidYouMean.hint(k, allowed));
            }
        }
    }
}
