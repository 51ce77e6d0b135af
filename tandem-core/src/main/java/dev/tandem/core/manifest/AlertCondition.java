package dev.tandem.core.manifest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The small condition language of alert rules: comparisons of a metric with a number, joined by {@code and} /
 * {@code or} (also {@code &&} / {@code ||}), with parentheses. {@code lag_seconds > 300 and drift_rows >= 1}.
 * {@code and} binds tighter than {@code or}.
 */
public final class AlertCondition {

    /** The metrics a condition may name; each is a number the engine reports. */
    public static final Set<String> METRICS = new TreeSet<>(Arrays.asList(
            "lag_seconds", "lag_records", "lag_bytes", "drift_rows", "error_rate", "shadow_mismatch_rate",
            "conflicts_pending", "chunks_failed"));

    private final String text;
    private final Node root;

    private AlertCondition(String text, Node root) {
        this.text = text;
        this.root = root;
    }

    /** Parses a condition; the exception's message says where and what was expected. */
    public static AlertCondition parse(String text) throws ParseException {
        Parser p = new Parser(text);
        Node n = p.or();
        if (p.pos < p.tokens.size()) {
            throw new ParseException("unexpected '" + p.tokens.get(p.pos) + "'; join comparisons with and / or");
        }
        return new AlertCondition(text, n);
    }

    /** True when the condition holds for these metric values; a metric without a value never matches. */
    public boolean test(Map<String, Double> metrics) {
        return root.test(metrics);
    }

    /** The metrics this condition reads. */
    public Set<String> metrics() {
        Set<String> out = new TreeSet<>();
        root.collect(out);
        return out;
    }

    @Override
    public String toString() {
        return text;
    }

    /** Conditions written alike are equal (a rule changed by a PATCH is told from one left as it was). */
    @Override
    public boolean equals(Object o) {
        return o instanceof AlertCondition c && c.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    /** A condition that cannot be parsed. */
    public static final class ParseException extends Exception {
        public ParseException(String message) {
            super(message);
        }
    }

    private interface Node {
        boolean test(Map<String, Double> m);

        void collect(Set<String> out);
    }

    private record And(Node a, Node b) implements Node {
        public boolean test(Map<String, Double> m) {
            return a.test(m) && b.test(m);
        }

        public void collect(Set<String> out) {
            a.collect(out);
            b.collect(out);
        }
    }

    private record Or(Node a, Node b) implements Node {
        public boolean test(Map<String, Double> m) {
            return a.test(m) || b.test(m);
        }

        public void collect(Set<String> out) {
            a.collect(out);
            b.collect(out);
        }
    }

    private record Compare(String metric, String op, double value) implements Node {
        public boolean test(Map<String, Double> m) {
            Double v = m.get(metric);
            if (v == null) {
                return false;
            }
            return switch (op) {
                case ">" -> v > value;
                case ">=" -> v >= value;
                case "<" -> v < value;
                case "<=" -> v <= value;
                case "==" -> v == value;
                case "!=" -> v != value;
                default -> throw new IllegalStateException(op);
            };
        }

        public void collect(Set<String> out) {
            out.add(metric);
        }
    }

    private static final class Parser {
        final List<String> tokens = new ArrayList<>();
        int pos;

        Parser(String text) throws ParseException {
            int i = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '(' || c == ')') {
                    tokens.add(String.valueOf(c));
                    i++;
                } else if ("<>=!&|".indexOf(c) >= 0) {
                    int j = i;
                    while (j < text.length() && "<>=!&|".indexOf(text.charAt(j)) >= 0) {
                        j++;
                    }
                    tokens.add(text.substring(i, j));
                    i = j;
                } else if (Character.isLetterOrDigit(c) || c == '_' || c == '.' || c == '-') {
                    int j = i;
                    while (j < text.length() && (Character.isLetterOrDigit(text.charAt(j)) || text.charAt(j) == '_'
                            || text.charAt(j) == '.' || (j == i && text.charAt(j) == '-'))) {
                        j++;
                    }
                    tokens.add(text.substring(i, j));
                    i = j;
                } else {
                    throw new ParseException("unexpected character '" + c + "' at position " + (i + 1));
                }
            }
            if (tokens.isEmpty()) {
                throw new ParseException("is empty; write a comparison such as lag_seconds > 300");
            }
        }

        Node or() throws ParseException {
            Node left = and();
            while (peekIs("or", "||")) {
                pos++;
                left = new Or(left, and());
            }
            return left;
        }

        Node and() throws ParseException {
            Node left = primary();
            while (peekIs("and", "&&")) {
                pos++;
                left = new And(left, primary());
            }
            return left;
        }

        Node primary() throws ParseException {
            if (peekIs("(")) {
                pos++;
                Node n = or();
                if (!peekIs(")")) {
                    throw new ParseException("missing ')'");
                }
                pos++;
                return n;
            }
            String metric = next("a metric such as lag_seconds");
            if (!METRICS.contains(metric)) {
                throw new ParseException("unknown metric '" + metric + "'; " + DidYouMean.hint(metric, METRICS));
            }
            String op = next("a comparison (>, >=, <, <=, ==, !=)");
            if (!List.of(">", ">=", "<", "<=", "==", "!=").contains(op)) {
                throw new ParseException("'" + op + "' is not a comparison; use >, >=, <, <=, == or !=");
            }
            String number = next("a number");
            try {
                return new Compare(metric, op, Double.parseDouble(number));
            } catch (NumberFormatException e) {
                throw new ParseException("'" + number + "' is not a number; compare " + metric + " with a number");
            }
        }

        boolean peekIs(String... options) {
            if (pos >= tokens.size()) {
                return false;
            }
            String t = tokens.get(pos);
            for (String o : options) {
                if (o.equalsIgnoreCase(t)) {
                    return true;
                }
            }
            return false;
        }

        String next(String expected) throws ParseException {
            if (pos >= tokens.size()) {
                throw new ParseException("ends early; expected " + expected);
            }
            return tokens.get(pos++);
        }
    }
}
