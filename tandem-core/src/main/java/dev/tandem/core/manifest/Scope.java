package dev.tandem.core.manifest;

import java.util.List;

/**
 * Which tables move. Either an explicit list ({@code tables}) or {@code include}/{@code exclude} glob patterns on
 * {@code schema.table} ({@code *} matches any run of characters). With neither, every user table the source
 * connection can see is in scope; {@code tandem plan} prints the resolved list.
 */
public record Scope(List<String> tables, List<String> include, List<String> exclude) {
    public static final Scope ALL = new Scope(List.of(), List.of(), List.of());

    public Scope {
        tables = List.copyOf(tables);
        include = List.copyOf(include);
        exclude = List.copyOf(exclude);
    }

    public boolean isExplicit() {
        return !tables.isEmpty();
    }
}
