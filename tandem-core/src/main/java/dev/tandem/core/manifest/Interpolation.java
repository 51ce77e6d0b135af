package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces {@code ${env:NAME}} in every text value with the environment variable's value ({@code $${} writes a
 * literal {@code ${}). The original text is remembered per path so problems show {@code ${env:NAME}}, never the
 * value. A variable that is not set is a problem at that path.
 */
final class Interpolation {
    private static final Pattern REF = Pattern.compile("\\$\\$\\{|\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

    private final Function<String, String> env;
    private final Reading reading;

    Interpolation(Function<String, String> env, Reading reading) {
        this.env = env;
        this.reading = reading;
    }

    JsonNode apply(JsonNode node, String path) {
        if (node.isTextual()) {
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
            if (m.group(1) == null) {
                m.appendReplacement(out, Matcher.quoteReplacement("${"));
                continue;
            }
            String name = m.group(1);
            String value = env.apply(name);
            if (value == null) {
                reading.problem(path, "'" + s + "'", "uses environment variable " + name + ", which is not set",
                        "export " + name + " before running tandem, or write the value in the manifest");
                value = "";
            }
            substituted = true;
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        if (substituted) {
            reading.rememberAsWritten(path, s);
        }
        return TextNode.valueOf(out.toString());
    }
}
