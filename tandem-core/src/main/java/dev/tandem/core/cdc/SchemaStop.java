package dev.tandem.core.cdc;

import dev.tandem.core.manifest.Cdc;
import java.util.List;

/**
 * The stream stops for a schema change on the source ({@code cdc.on_schema_change}): thrown by {@link SchemaWatch}
 * before any row of the new shape is applied, so nothing from {@link #position()} on is applied or confirmed.
 */
public final class SchemaStop extends RuntimeException {
    private final String table;
    private final String position;
    private final List<String> differences;
    private final List<String> fix;
    private final Cdc.OnSchemaChange policy;

    /**
     * @param table       the table (qualified), as the migration names it
     * @param position    where the stream met the new shape, or null when the catalogs showed it first
     * @param differences each difference, for people
     * @param fix         what to run on the target before {@code tandem resume}, or ways out in words
     * @param policy      the policy that stopped (apply stops for what it may not do itself)
     */
    SchemaStop(String table, String position, List<String> differences, List<String> fix,
               Cdc.OnSchemaChange policy) {
        super("the schema of " + table + " changed on the source" + (position == null
                ? " (found by comparing the catalogs)" : " (the stream met it at " + position + ")") + ": "
                + String.join("; ", differences));
        this.table = table;
        this.position = position;
        this.differences = List.copyOf(differences);
        this.fix = List.copyOf(fix);
        this.policy = policy;
    }

    public String table() {
        return table;
    }

    /** Where the stream met the change, or null when the catalog comparison found it. */
    public String position() {
        return position;
    }

    public List<String> differences() {
        return differences;
    }

    /** The statements to run on the target (or the ways out, in words). */
    public List<String> fix() {
        return fix;
    }

    public Cdc.OnSchemaChange policy() {
        return policy;
    }

    /** Whether the migration aborts ({@code on_schema_change: abort}) rather than pausing. */
    public boolean aborts() {
        return policy == Cdc.OnSchemaChange.ABORT;
    }
}
