package dev.tandem.postgres;

import java.util.regex.Pattern;

/** PostgreSQL identifiers in generated SQL and in the statements Tandem suggests to operators. */
final class PgIdent {
    private PgIdent() {
    }

    private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_$]*");

    /** {@code name} as SQL: bare when it needs no quotes, else double-quoted (quote_ident without the keyword list). */
    static String quote(String name) {
        if (PLAIN.matcher(name).matches() && !Keywords.RESERVED.contains(name)) {
            return name;
        }
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String qualified(String schema, String table) {
        return quote(schema) + "." + quote(table);
    }

    /** The reserved words that would break a bare identifier in the statements Tandem writes. */
    private static final class Keywords {
        static final java.util.Set<String> RESERVED = java.util.Set.of("all", "analyse", "analyze", "and", "any",
                "array", "as", "asc", "asymmetric", "both", "case", "cast", "check", "collate", "column", "constraint",
                "create", "current_catalog", "current_date", "current_role", "current_time", "current_timestamp",
                "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
                "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into",
                "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only",
                "or", "order", "placing", "primary", "references", "returning", "select", "session_user", "some",
                "symmetric", "system_user", "table", "then", "to", "trailing", "true", "union", "unique", "user",
                "using", "variadic", "when", "where", "window", "with");
    }
}
