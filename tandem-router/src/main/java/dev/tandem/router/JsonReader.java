package dev.tandem.router;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the router reads (the control plane's routing state), parsed by hand: the router depends on the
 * JDK and slf4j only, since applications embed it. Objects become {@code Map<String, Object>} (in order), arrays
 * {@code List<Object>}, numbers {@code Double}, and true/false/null {@code Boolean}/{@code null}. It also writes
 * the little the router sends (acknowledgements with its counters).
 */
final class JsonReader {
    private final String text;
    private int at;

    private JsonReader(String text) {
        this.text = text;
    }

    /** @throws IllegalArgumentException naming the offset and what was expected */
    static Object parse(String text) {
        JsonReader r = new JsonReader(text);
        Object v = r.value();
        r.space();
        if (r.at != text.length()) {
            throw r.error("end of input");
        }
        return v;
    }

    /** A JSON string literal. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Maps, lists, strings, numbers, booleans and null as JSON; anything else as its string. */
    static String write(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            m.forEach((k, x) -> b.append(b.length() > 1 ? ", " : "").append(quote(String.valueOf(k))).append(": ")
                    .append(write(x)));
            return b.append('}').toString();
        }
        if (v instanceof Iterable<?> l) {
            StringBuilder b = new StringBuilder("[");
            for (Object x : l) {
                b.append(b.length() > 1 ? ", " : "").append(write(x));
            }
            return b.append(']').toString();
        }
        if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return "null";
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        return quote(v.toString());
    }

    private Object value() {
        space();
        if (at >= text.length()) {
            throw error("a value");
        }
        char c = text.charAt(at);
        return switch (c) {
            case '{' -> object();
            case '[' -> array();
            case '"' -> string();
            case 't' -> word("true", Boolean.TRUE);
            case 'f' -> word("false", Boolean.FALSE);
            case 'n' -> word("null", null);
            default -> number();
        };
    }

    private Map<String, Object> object() {
        Map<String, Object> out = new LinkedHashMap<>();
        at++;
        space();
        if (peek('}')) {
            at++;
            return out;
        }
        while (true) {
            space();
            if (!peek('"')) {
                throw error("a key in double quotes");
            }
            String key = string();
            space();
            expect(':');
            out.put(key, value());
            space();
            if (peek(',')) {
                at++;
            } else {
                expect('}');
                return out;
            }
        }
    }

    private List<Object> array() {
        List<Object> out = new ArrayList<>();
        at++;
        space();
        if (peek(']')) {
            at++;
            return out;
        }
        while (true) {
            out.add(value());
            space();
            if (peek(',')) {
                at++;
            } else {
                expect(']');
                return out;
            }
        }
    }

    private String string() {
        StringBuilder b = new StringBuilder();
        at++;
        while (at < text.length()) {
            char c = text.charAt(at++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (at >= text.length()) {
                break;
            }
            char e = text.charAt(at++);
            switch (e) {
                case 'n' -> b.append('\n');
                case 't' -> b.append('\t');
                case 'r' -> b.append('\r');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    if (at + 4 > text.length()) {
                        throw error("four hex digits");
                    }
                    b.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                    at += 4;
                }
                default -> b.append(e);
            }
        }
        throw error("a closing double quote");
    }

    private Double number() {
        int start = at;
        while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
        try {
            return Double.valueOf(text.substring(start, at));
        } catch (NumberFormatException e) {
            at = start;
            throw error("a value");
        }
    }

    private Object word(String w, Object v) {
        if (!text.startsWith(w, at)) {
            throw error(w);
        }
        at += w.length();
        return v;
    }

    private void space() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private boolean peek(char c) {
        return at < text.length() && text.charAt(at) == c;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw error("'" + c + "'");
        }
        at++;
    }

    private IllegalArgumentException error(String expected) {
        return new IllegalArgumentException("routing state: expected " + expected + " at offset " + at);
    }
}
