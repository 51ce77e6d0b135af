package dev.tandem.core.manifest;

import dev.tandem.core.types.TypeMapping;
import java.util.List;
import java.util.Optional;

/**
 * How the source's values become the target's where the engines' types differ ({@code schema.zero_dates},
 * {@code schema.columns}): the MySQL / MariaDB → PostgreSQL type mapping's choices a user may make. One section, read
 * alike by the schema a migration creates, the copy, the change stream, the preflight and the comparison of the two
 * sides — each through the connector of the side whose values leave ({@link #towards}).
 *
 * @param zeroDates what a MySQL zero date ({@code 0000-00-00}, or a zero month or day) becomes; null when the manifest
 *                  does not say, which means {@link ZeroDates#REFUSE} into PostgreSQL and {@link ZeroDates#KEEP} into
 *                  MySQL / MariaDB
 * @param columns   per column, the PostgreSQL type it is made as instead of the rule's
 * @param peer      the engine the values go to, once resolved ({@link #towards}); null in the manifest
 */
public record ColumnTypes(ZeroDates zeroDates, List<Column> columns, Engine peer) {
    /** Nothing chosen: the rules of the type mapping as they are. */
    public static final ColumnTypes DEFAULT = new ColumnTypes(null, List.of());

    /** {@code schema.zero_dates}. */
    public enum ZeroDates {
        /** A zero date stops its chunk or the stream, naming the column (PostgreSQL has no such date). */
        REFUSE,
        /** A zero date is written as NULL (and compared as NULL). */
        AS_NULL,
        /** A zero date is written as it is: only a MySQL / MariaDB target has them. */
        KEEP
    }

    /**
     * One entry of {@code schema.columns}.
     *
     * @param table  {@code schema.table} or {@code table}, as the scope names tables
     * @param column the column's name on the source
     * @param type   the PostgreSQL type the column is made as (one of the rule's alternatives)
     */
    public record Column(String table, String column, String type) {
    }

    public ColumnTypes {
        columns = List.copyOf(columns);
    }

    /** The manifest's choices, not yet resolved for a peer. */
    public ColumnTypes(ZeroDates zeroDates, List<Column> columns) {
        this(zeroDates, columns, null);
    }

    /** The entry naming {@code column} of the table {@code schema.name}, if any. */
    public Optional<Column> column(String schema, String name, String column) {
        return columns.stream().filter(c -> c.column.equals(column)
                && (c.table.equals(name) || c.table.equals(schema + "." + name))).findFirst();
    }

    /**
     * These choices for values that leave one side for a database of {@code peer}: the zero-date policy resolved (a
     * MySQL-family peer keeps zero dates, whatever was written: what is not built for it is refused before the run);
     * the column types only towards PostgreSQL.
     */
    public ColumnTypes towards(Engine peer) {
        if (peer != null && peer.mysqlFamily()) {
            return new ColumnTypes(ZeroDates.KEEP, List.of(), peer);
        }
        return new ColumnTypes(zeroDates == null ? ZeroDates.REFUSE : zeroDates, columns, peer);
    }

    /**
     * The PostgreSQL type a MySQL / MariaDB column of {@code nativeType} is made as (the type mapping's rule, or the
     * type chosen for it), when these choices are resolved towards PostgreSQL; empty otherwise, and for a type no
     * rule maps.
     */
    public Optional<String> postgresType(String schema, String table, String column, String nativeType) {
        if (peer != Engine.POSTGRESQL) {
            return Optional.empty();
        }
        return Optional.ofNullable(TypeMapping.MYSQL_TO_POSTGRESQL.map(nativeType, column(schema, table, column)
                .map(Column::type).orElse(null)).target());
    }

    /** The zero-date policy, resolved as for a PostgreSQL peer when the manifest left it open. */
    public ZeroDates zeroDatesOrRefuse() {
        return zeroDates == null ? ZeroDates.REFUSE : zeroDates;
    }
}
