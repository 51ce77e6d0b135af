package dev.tandem.core.spi;

import dev.tandem.core.manifest.ConflictResolution;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

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
     * {@code newest_wins} leaves a row whose timestamp column is newer than the change's. The applier may hold
     * statements back to send several in one round trip: they reach the target, in order, at {@link #flush} (which
     * the caller must call before it commits) or with the next statement that cannot wait.
     */
    void apply(Connection target, ApplyTable table, List<Change> changes) throws SQLException;

    /** Sends what {@link #apply} (and {@link AppliedPositions#record}) held back on this connection; errors surface
     * here. */
    default void flush(Connection target) throws SQLException {
    }

    /**
     * Whether this target can record how far a stream applied, inside the transaction that applies the changes
     * ({@code cdc.apply: source_transactions} needs it); empty when it cannot, and that mode is then refused.
     */
    default Optional<AppliedPositions> appliedPositions() {
        return Optional.empty();
    }

    /**
     * {@code cdc.apply: source_transactions}: the position of the last source transaction a stream committed on this
     * target, recorded in the same target transaction as its changes, so after a crash the stream skips the
     * transactions the target already has instead of applying them again (which would briefly show older rows next
     * to newer ones: a state the source never had).
     */
    interface AppliedPositions {
        /** The position stream {@code stream} committed up to, or null. */
        String applied(Connection target, String stream) throws SQLException;

        /** Records, in the caller's open transaction, that {@code stream} applied up to {@code position} (may be held
         * back until {@link ChangeApplier#flush}, like {@link ChangeApplier#apply}). */
        void record(Connection target, String stream, String position) throws SQLException;

        /** Forgets the record of {@code stream} (a new stream, or the stream dropped); commits. */
        void forget(Connection target, String stream) throws SQLException;
    }

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
