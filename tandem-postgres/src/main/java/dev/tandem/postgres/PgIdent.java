package dev.tandem.postgres;

import java.util.regex.Pattern;

/** PostgreSQL identifiers in generated SQL and in the statements Tandem suggests to operators. */
final class PgIdent {
    private PgIdent() {
    }

    private static final Pattern PLAIN = Pattern.compile("[a-z_][a-z0-9_$]*");

    /**
     * {@code name} as SQL: bare when it needs no quotes, else double-quoted — quote_ident's rule: every keyword that
     * is not unreserved is quoted (a bare {@code left} or {@code similar} breaks a CREATE TABLE).
     */
    static String quote(String name) {
        if (PLAIN.matcher(name).matches() && !Keywords.RESERVED.contains(name)) {
            return name;
        }
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String qualified(String schema, String table) {
        return quote(schema) + "." + quote(table);
    }

    /**
     * PostgreSQL's keywords that are not unreserved ({@code SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'}):
     * reserved, type/function-name and column-name ones, as of PostgreSQL 17.
     */
    private static final class Keywords {
        static final java.util.Set<String> RESERVED = java.util.Set.of("all", "analyse", "analyze", "and", "any",
                "array", "as", "asc", "asymmetric", "both", "case", "cast", "check", "collate", "column", "constraint",
                "create", "current_catalog", "current_date", "current_role", "current_time", "current_timestamp",
                "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
                "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into",
                "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only",
                "or", "order", "placing", "primary", "references", "returning", "select", "session_user", "some",
                "symmetric", "system_user", "table", "then", "to", "trailing", "true", "union", "unique", "user",
                "using", "variadic", "when", "where", "window", "with",
                // type and function names
                "authorization", "binary", "collation", "concurrently", "cross", "current_schema", "freeze", "full",
                "ilike", "inner", "is", "isnull", "join", "left", "like", "natural", "notnull", "outer", "overlaps",
                "right", "similar", "tablesample", "verbose",
                // column names
                "between", "bigint", "bit", "boolean", "char", "character", "coalesce", "dec", "decimal", "exists",
                "extract", "float", "greatest", "grouping", "inout", "int", "integer", "interval", "json",
                "json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg", "json_query",
                "json_scalar", "json_serialize", "json_table", "json_value", "least", "merge_action", "national",
                "nchar", "none", "normalize", "nullif", "numeric", "out", "overlay", "position", "precision", "real",
                "row", "setof", "smallint", "substring", "time", "timestamp", "treat", "trim", "values", "varchar",
                "xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse",
                "xmlpi", "xmlroot", "xmlserialize", "xmltable");
    }
}
