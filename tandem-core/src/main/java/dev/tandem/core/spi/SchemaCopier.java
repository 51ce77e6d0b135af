package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Recreates source tables on a target ({@code schema: create}; {@link Connector#schemaCopier} says onto which
 * engines), in two steps around the data
 * load: the tables before it, the indexes and foreign keys after it (loading into a bare table is several times
 * faster, and building an index once beats maintaining it row by row).
 */
public interface SchemaCopier {

    /** A source of fresh target connections, for work done in parallel. */
    @FunctionalInterface
    interface ConnectionSource {
        Connection open() throws SQLException;
    }

    /**
     * Creates on the target what the tables need before any row arrives: schemas, types, sequences, and each table
     * with its columns, types, NOT NULL, defaults, identity, generated columns, check constraints and (unless
     * {@code deferPrimaryKeys}) primary key. A table that already exists is left alone. Returns one line per thing
     * created. A problem that stops a table (a type from an extension the target lacks, say) is an exception whose
     * message names the table and the fix.
     *
     * @param deferPrimaryKeys leave primary keys to {@link #finishTables}: a bare table loads faster and one index
     *                         build beats maintaining it row by row. Only when nothing needs the key during the load
     *                         (no change stream applied by key, no ON CONFLICT).
     */
    List<String> createTables(Connection source, Connection target, List<TableInfo> tables, boolean deferPrimaryKeys)
            throws SQLException;

    /**
     * After the data: primary keys that were deferred, secondary indexes and unique constraints (built in parallel
     * on {@code parallelism} connections), foreign keys between tables in scope, and sequences set to the source's
     * values. What already
     * exists is skipped, so a rerun after a crash finishes the job. Returns one line per thing done.
     */
    List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables, int parallelism)
            throws SQLException;

    /**
     * {@link #finishTables} while a change stream keeps applying: foreign keys are then created without validating
     * the existing rows (PostgreSQL: NOT VALID), because a batch boundary of the stream may briefly show a child row
     * before its parent; they are validated at cutover, when the target is in sync and frozen.
     */
    default List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables,
                                      int parallelism, boolean streaming) throws SQLException {
        return finishTables(source, target, tables, parallelism);
    }

    /**
     * Before a cutover or rollback freezes writes: the sequences behind the tables' defaults and identity columns on
     * {@code c}, by the names {@link #syncSequences} takes (found now, so the freeze does not wait for catalog
     * queries).
     */
    default List<String> sequences(Connection c, List<TableInfo> tables) throws SQLException {
        throw new SQLException("this connector cannot set sequences at a cutover");
    }

    /**
     * At a cutover (and back at a rollback), while writes are frozen: sets each of {@code sequences} (from
     * {@link #sequences}) on {@code to} past its value on {@code from} (never lowers one), so rows inserted on
     * {@code to} from now on cannot take a key {@code from} already gave out. Returns one line per sequence. Both
     * sides must hold the same tables and sequences.
     */
    default List<String> syncSequences(Connection from, Connection to, List<String> sequences) throws SQLException {
        throw new SQLException("this connector cannot set sequences at a cutover");
    }

    /**
     * The statements that bring target table {@code table} to the source's columns after {@code change} (DDL on the
     * source during a migration), in the target's SQL: shown to the operator as the fix, and run by
     * {@code cdc.on_schema_change: apply} for the safe subset. Empty when this copier cannot write them.
     */
    default List<String> alterStatements(TableRef table, ColumnChange change) {
        return List.of();
    }

    /**
     * Whether changing a target column from type {@code from} to {@code to} (each as the database spells it) keeps
     * every value it can hold, exactly (integer to bigint, varchar(10) to varchar(20) or text): a change that
     * {@code cdc.on_schema_change: apply} may make itself. False when unsure.
     */
    default boolean widens(String from, String to) {
        return false;
    }
}
