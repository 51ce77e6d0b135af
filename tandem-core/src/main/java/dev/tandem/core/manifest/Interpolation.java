package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads credentials from outside the manifest: {@code ${env:NAME}} becomes the environment variable's value and
 * {@code ${file:PATH}} the content of that file (trailing line breaks dropped); {@code $${} writes a literal
 * {@code ${}. Only secrets are read this way — an endpoint's {@code password} and its secret-named
 * {@code properties} — so that no environment value ends up in a description, an alert message, a webhook URL, a
 * user name or anything else that is stored, shown or sent; a reference anywhere else is a problem. The original
 * text is remembered per path so problems show the reference, never the value, and so the stored manifest keeps the
 * reference. A variable that is not set, or a file that cannot be read, is a problem at that path.
 */
final class Interpolation {
    private static final Pattern REF = Pattern.compile(
            "\\$\\$\\{|\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}|\\$\\{file:([^}]+)}");
    private static final Pattern CREDENTIAL = Pattern.compile("(source|target)\\.(password|properties\\.(.+))");

    private final Function<String, String> env;
    private final Reading reading;

    Interpolation(Function<String, String> env, Reading reading) {
        this.env = env;
        this.reading = reading;
    }

    /** Whether {@code path} holds a secret, where references are read. */
    static boolean credential(String path) {
        Matcher m = CREDENTIAL.matcher(path);
        return m.matches() && (m.group(3) == null || Endpoint.isSecretKey(m.group(3)));
    }

    JsonNode apply(JsonNode node, String path) {
        if (node.isTextual()) {
            controlCharacters(node.asText(), path);
            return text(node.asText(), path);
        }
        if (node.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                out.set(e.getKey(), apply(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey()));
            }
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            for (int i = 0; i < node.size(); i++) {
                out.add(apply(node.get(i), path + "[" + i + "]"));
            }
            return out;
        }
        return node;
    }

    private JsonNode text(String s, String path) {
        if (!s.contains("${")) {
            return TextNode.valueOf(s);
        }
        Matcher m = REF.matcher(s);
        StringBuilder out = new StringBuilder();
        boolean substituted = false;
        while (m.find()) {
            if (m.group(1) == null && m.group(2) == null) {
                m.appendReplacement(out, Matcher.quoteReplacement("${"));
                continue;
            }
            substituted = true;
            if (!credential(path)) {
                reading.problem(path, "'" + s + "'", "reads " + (m.group(1) != null ? "environment variable "
                        + m.group(1) : "file " + m.group(2)) + ", but ${env:...} and ${file:...} are read only in "
                        + "credentials (source and target password and secret-named properties), so that no "
                        + "environment value is stored, shown or sent", "write the value itself (and $${ for a "
                        + "literal ${)");
                m.appendReplacement(out, Matcher.quoteReplacement(m.group())); // left as written
                continue;
            }
            String value = m.group(1) != null ? variable(m.group(1), s, path) : file(m.group(2), s, path);
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        if (substituted) {
            reading.rememberAsWritten(path, s);
        }
        return TextNode.valueOf(out.toString());
    }

    /**
     * Text with terminal control characters (ESC and the other C0/C1 controls but tab and line breaks) is refused:
     * a description or an alert message is printed by {@code tandem status} and the dashboard, and an escape
     * sequence in it would drive the reader's terminal.
     */
    private void controlCharacters(String s, String path) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7f && c <= 0x9f)) {
                reading.problem(path, null, String.format(java.util.Locale.ROOT, "holds the control character "
                        + "U+%04X at position %d", (int) c, i + 1), "remove control characters (escape sequences "
                        + "would reach the terminals that show it)");
                return;
            }
        }
    }

    private String variable(String name, String written, String path) {
        String value = env.apply(name);
        if (value == null) {
            reading.problem(path, "'" + written + "'", "uses environment variable " + name + ", which is not set",
                    "export " + name + " before running tandem");
            return "";
        }
        return value;
    }

    private String file(String name, String written, String path) {
        try {
            return Files.readString(Path.of(name), StandardCharsets.UTF_8).replaceAll("[\\r\\n]+$", "");
        } catch (IOException | RuntimeException e) {
            reading.problem(path, "'" + written + "'", "reads file " + name + ", which cannot be read ("
                    + e.getClass().getSimpleName() + ")", "give the path of a readable file holding the secret");
            return "";
        }
    }
}
