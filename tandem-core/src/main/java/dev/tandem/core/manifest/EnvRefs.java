package dev.tandem.core.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lets {@code ${env:NAME}} (and {@code ${file:PATH}} with a plain path) stand unquoted in YAML, as DESIGN.md and the README write it
 * ({@code source: { url: ..., password: ${env:SRC_PASSWORD} }}): in a YAML flow mapping, braces end the mapping,
 * so that line is not valid YAML as it stands. Before parsing, each reference becomes a token of the same length
 * made of characters YAML takes in any plain scalar ({@code $~env~NAME$}); after parsing, the tokens in the tree
 * become {@code ${env:NAME}} again, as written. Line and column numbers of syntax errors stay right.
 */
final class EnvRefs {
    private EnvRefs() {
    }

    private static final Pattern REF = Pattern.compile(
            "(?<!\\$)\\$\\{(env|file):([A-Za-z_][A-Za-z0-9_]*|(?<=file:)[A-Za-z0-9_./~-]+)}");
    private static final Pattern TOKEN = Pattern.compile(
            "\\$~(env|file)~([A-Za-z_][A-Za-z0-9_]*|(?<=file~)[A-Za-z0-9_./~-]+)\\$");

    static String protect(String yaml) {
        return REF.matcher(yaml).replaceAll(m -> Matcher.quoteReplacement("$~" + m.group(1) + "~" + m.group(2) + "$"));
    }

    static JsonNode restore(JsonNode node) {
        if (node == null) {
            return null;
        }
        if (node.isTextual()) {
            String s = node.asText();
            return s.contains("$~env~") || s.contains("$~file~") ? TextNode.valueOf(TOKEN.matcher(s)
                    .replaceAll(m -> Matcher.quoteReplacement("${" + m.group(1) + ":" + m.group(2) + "}"))) : node;
        }
        if (node.isObject()) {
            ObjectNode o = (ObjectNode) node;
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                o.set(name, restore(o.get(name)));
            }
        } else if (node.isArray()) {
            ArrayNode a = (ArrayNode) node;
            for (int i = 0; i < a.size(); i++) {
                a.set(i, restore(a.get(i)));
            }
        }
        return node;
    }
}
