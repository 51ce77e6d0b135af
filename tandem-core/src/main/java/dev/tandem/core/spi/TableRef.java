package dev.tandem.core.spi;

/**
 * A table by schema and name, exactly as the database stores them (no quoting, no case folding). For MySQL and
 * MariaDB the schema is the database.
 */
public record TableRef(String schema, String name) implements Comparable<TableRef> {

    /** {@code schema.table}, the way the manifest and every message write it. */
    public String qualified() {
        return schema + "." + name;
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
