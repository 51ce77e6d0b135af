package dev.tandem.core.types;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PostgreSQL's text form of a one-dimensional array of texts, written exactly as PostgreSQL prints one (so values
 * made here and values read back from PostgreSQL compare as equal text) and read back: a MySQL {@code SET} moves to a
 * {@code text[]} and back (a rollback's reverse stream).
 */
public final class PgArrays {
    private PgArrays() {
    }

    /**
     * {@code {a,b}}: an element is double-quoted, as PostgreSQL's {@code array_out} does, when it is empty, is
     * {@code NULL} in any case, or holds a brace, a comma, a double quote, a backslash or ASCII white space; inside
     * quotes a double quote and a backslash are escaped with a backslash.
     */
    public static String format(List<String> elements) {
        StringBuilder out = new StringBuilder("{");
        for (int i = 0; i < elements.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            String e = elements.get(i);
            if (!needsQuotes(e)) {
                out.append(e);
                continue;
            }
            out.append('"');
            for (int k = 0; k < e.length(); k++) {
                char c = e.charAt(k);
                if (c == '"' || c == '\\') {
                    out.append('\\');
                }
                out.append(c);
            }
            out.append('"');
        }
        return out.append('}').toString();
    }

    private static boolean needsQuotes(String e) {
        if (e.isEmpty() || e.toUpperCase(Locale.ROOT).equals("NULL")) {
            return true;
        }
        for (int k = 0; k < e.length(); k++) {
            char c = e.charAt(k);
            if (c == '{' || c == '}' || c == ',' || c == '"' || c == '\\' || space(c)) {
                return true;
            }
        }
        return false;
    }

    /** PostgreSQL's {@code array_isspace}: the ASCII white space only. */
    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u000B' || c == '\f';
    }

    /**
     * The elements of a one-dimensional array's text form.
     *
     * @throws IllegalArgumentException for text that is not one, or an element that is NULL (which a list of texts
     *                                  cannot hold: the caller says what it is for)
     */
    public static List<String> parse(String text) {
        String t = text.strip();
        if (t.length() < 2 || t.charAt(0) != '{' || t.charAt(t.length() - 1) != '}') {
            throw new IllegalArgumentException("'" + text + "' is not an array");
        }
        List<String> out = new ArrayList<>();
        int i = 1;
        int end = t.length() - 1;
        if (t.substring(1, end).isBlank()) {
            return out;
        }
        while (i <= end) {
            StringBuilder e = new StringBuilder();
            boolean quoted = false;
            while (i < end && space(t.charAt(i))) {
                i++;
            }
            if (i < end && t.charAt(i) == '"') {
                quoted = true;
                i++;
                while (i < end && t.charAt(i) != '"') {
                    if (t.charAt(i) == '\\' && i + 1 < end) {
                        i++;
                    }
                    e.append(t.charAt(i++));
                }
                if (i >= end) {
                    throw new IllegalArgumentException("'" + text + "' has an unclosed quote");
                }
                i++;
                while (i < end && space(t.charAt(i))) {
                    i++;
                }
            } else {
                while (i < end && t.charAt(i) != ',') {
                    if (t.charAt(i) == '{' || t.charAt(i) == '"') {
                        throw new IllegalArgumentException("'" + text + "' is not a one-dimensional array of texts");
                    }
                    if (t.charAt(i) == '\\' && i + 1 < end) {
                        i++;
                    }
                    e.append(t.charAt(i++));
                }
            }
            String element = quoted ? e.toString() : e.toString().strip();
            if (!quoted && element.equalsIgnoreCase("NULL")) {
                throw new IllegalArgumentException("'" + text + "' holds a NULL element");
            }
            out.add(element);
            if (i < end && t.charAt(i) != ',') {
                throw new IllegalArgumentException("'" + text + "' is not an array");
            }
            i++; // the comma, or past the end
        }
        return out;
    }
}
