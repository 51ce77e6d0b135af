package dev.tandem.core.spi;

/**
 * A table by schema and name, exactly as the database stores them (no quoting, no case folding). For MySQL and
 * MariaDB the schema is the database. This pair is a table's identity everywhere; its text, {@link #qualified()}, is
 * one-to-one with it, so maps and stored records keyed by the text are keyed by the pair.
 */
public record TableRef(String schema, String name) implements Comparable<TableRef> {

    /**
     * {@code schema.table}, the way the manifest and every message write it. A part that holds a dot or a double
     * quote, is empty or starts or ends with white space is double-quoted (inner quotes doubled), so that
     * {@code s."x.t"} and {@code "s.x".t} stay two tables and {@link #parse} reads the text back to this pair.
     */
    public String qualified() {
        return part(schema) + "." + part(name);
    }

    private static String part(String s) {
        boolean plain = !s.isEmpty() && s.indexOf('.') < 0 && s.indexOf('"') < 0
                && !Character.isWhitespace(s.charAt(0)) && !Character.isWhitespace(s.charAt(s.length() - 1));
        return plain ? s : "\"" + s.replace("\"", "\"\"") + "\"";
    }

    /**
     * Reads {@code schema.table} or {@code table} (then in {@code defaultSchema}). Double quotes may wrap either part,
     * {@code "My Schema"."Orders"}; no case folding is done.
     */
    public static TableRef parse(String text, String defaultSchema) {
        String s = text.trim();
        int dot = splitDot(s);
        if (dot < 0) {
            return new TableRef(defaultSchema, unquote(s));
        }
        return new TableRef(unquote(s.substring(0, dot)), unquote(s.substring(dot + 1)));
    }

    private static int splitDot(String s) {
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '.' && !quoted) {
                return i;
            }
        }
        return -1;
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            return s.substring(1, s.length() - 1).replace("\"\"", "\"");
        }
        return s;
    }

    @Override
    public int compareTo(TableRef o) {
        return qualified().compareTo(o.qualified());
    }

    @Override
    public String toString() {
        return qualified();
    }
}
