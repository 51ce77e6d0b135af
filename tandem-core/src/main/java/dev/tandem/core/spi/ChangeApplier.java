package dev.tandem.core.spi;

import dev.tandem.core.manifest.ConflictResolution;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Applying reduced changes to the target inside the caller's transaction (the caller commits). Called with at most
 * one change per key and table (the last one wins; {@link dev.tandem.core.cdc.ChangeReducer} merged them), so the
 * order within a call does not matter. Must be idempotent: applying the same changes twice leaves the same rows.
 * Target triggers and foreign-key checks do not fire for applied changes where the target allows that.
 */
public interface ChangeApplier {

    /**
     * Prepares a new target connection for applying (session settings); returns warnings for the operator, such as
     * triggers that will fire because the user may not turn them off.
     */
    List<String> prepare(Connection target) throws SQLException;

    /**
     * Applies one table's changes: deletes by key, upserts of whole rows, updates of the columns present.
     * {@code newest_wins} leaves a row whose timestamp column is newer than the change's.
     */
    void apply(Connection target, ApplyTable table, List<Change> changes) throws SQLException;

    /** The caller rolled back a transaction on {@code target}: forget session state made inside it. */
    default void rolledBack(Connection target) {
    }

    /**
     * A TRUNCATE on the source, while parts of the table may still be copying: removes the rows within
     * {@code within} (null: the whole table) except those in {@code except} (ranges whose copy and replay handle
     * the truncate themselves). With no range at all this is a plain TRUNCATE.
     */
    void truncate(Connection target, ApplyTable table, KeyRange within, List<KeyRange> except) throws SQLException;

    /**
     * A table as the apply side sees it: its shape on the target, the columns that move, and how conflicts are
     * decided.
     *
     * @param timestampColumn for {@code newest_wins}: the column compared; a row is only replaced by a change whose
     *                        value there is not older
     */
    record ApplyTable(TableInfo target, List<String> columns, ConflictResolution.Strategy strategy,
                      String timestampColumn) {
    }
}
