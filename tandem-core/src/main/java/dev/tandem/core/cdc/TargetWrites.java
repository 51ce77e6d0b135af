package dev.tandem.core.cdc;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.KeyRange;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a change stream's changes reach the target: the stream's own target connection, and writes whose names say
 * what they do to the transaction. {@code write...} methods leave it open (neither commit nor roll back);
 * {@code commit...} methods end it, committed, or rolled back and thrown. Changes are folded per table
 * ({@link ChangeReducer}); when the target rejects a folded write with a constraint error (a unique or foreign key
 * two source rows swapped a value of), the same changes are written once more one by one, in log order.
 * <p>The stream's thread only, except {@link #abortInFlight} (any thread) and the counters.
 */
final class TargetWrites {
    private static final Logger log = LoggerFactory.getLogger(TargetWrites.class);

    private final Connector target;
    private final ChangeApplier applier;
    private final Map<String, ChangeApplier.ApplyTable> tables;
    private final Set<String> givenUp;
    private final Consumer<String> warn;
    private final AtomicLong attempts = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private Connection connection;
    private volatile Connection inFlight;

    /**
     * @param tables  the tables the migration moves, by source name; changes of others are skipped
     * @param givenUp tables given up under allow_partial (read live); their changes are skipped
     * @param warn    where the applier's session warnings go
     */
    TargetWrites(Connector target, ChangeApplier applier, Map<String, ChangeApplier.ApplyTable> tables,
                 Set<String> givenUp, Consumer<String> warn) {
        this.target = target;
        this.applier = applier;
        this.tables = new java.util.concurrent.ConcurrentHashMap<>(tables);
        this.givenUp = givenUp;
        this.warn = warn;
    }

    ChangeApplier applier() {
        return applier;
    }

    /** How {@code table}'s changes are applied now, or null for a table the migration does not move. */
    ChangeApplier.ApplyTable table(String table) {
        return tables.get(table);
    }

    /** From now on {@code table}'s changes are applied as {@code at} says (its shape changed on both sides). */
    void replace(String table, ChangeApplier.ApplyTable at) {
        tables.put(table, at);
    }

    /** The stream's target connection (auto-commit off), opened again after {@link #closeConnection}. */
    Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = target.connect();
            connection.setAutoCommit(false);
            for (String w : applier.prepare(connection)) {
                warn.accept(w);
            }
        }
        return connection;
    }

    /** Rolls back whatever the stream's connection holds open (nothing when it has none). */
    void rollbackOpen() {
        if (connection != null) {
            rollback(connection);
        }
    }

    void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // broken already
            }
            connection = null;
        }
    }

    /** Rolls {@code c}'s transaction back (and the applier's statements held for it); a broken connection is fine. */
    void rollback(Connection c) {
        applier.rolledBack(c);
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; it is replaced
        }
    }

    /** Marks {@code c} as writing now, so that {@link #abortInFlight} can end it; null: nothing in flight. */
    void inFlight(Connection c) {
        inFlight = c;
    }

    /** Aborts the connection of a write in flight, so that it fails and rolls back. Any thread. */
    void abortInFlight() {
        Connection c = inFlight;
        if (c != null) {
            try {
                c.abort(Runnable::run);
            } catch (SQLException ignored) {
                // gone already
            }
        }
    }

    /** One target transaction attempted (each retry counts). */
    void attempted() {
        attempts.incrementAndGet();
    }

    /** One attempted target transaction failed. */
    void failed() {
        failedAttempts.incrementAndGet();
    }

    long attempts() {
        return attempts.get();
    }

    long failedAttempts() {
        return failedAttempts.get();
    }

    /** An error's message with the target's credentials taken out. */
    String scrub(Throwable e) {
        return target.endpoint().scrub(String.valueOf(e.getMessage()));
    }

    static boolean isConstraint(SQLException e) {
        return SqlErrors.classify(e) == SqlErrors.Kind.CONSTRAINT;
    }

    /**
     * Commits {@code changes} on {@code c} in one transaction: folded; after a constraint error, rolled back and
     * written again one by one. Any other error (or a second one) rolls back and is thrown.
     *
     * @param keep  per table, the key ranges a TRUNCATE of it must spare (chunks still copying)
     * @param scope a chunk's range (a held-back replay), or null for the whole table
     */
    void commit(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws SQLException {
        try {
            commitFolded(c, changes, keep, scope);
        } catch (SQLException e) {
            if (!isConstraint(e)) {
                throw e;
            }
            inFlight = c;
            try {
                writeOneByOne(c, changes, keep, scope, e);
                applier.flush(c);
                c.commit();
            } catch (SQLException | RuntimeException again) {
                rollback(c);
                throw again;
            } finally {
                inFlight = null;
            }
        }
    }

    /** Writes {@code changes} folded and commits; any error rolls back and is thrown. */
    private void commitFolded(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws SQLException {
        inFlight = c;
        try {
            write(c, changes, keep, scope);
            applier.flush(c);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            rollback(c);
            throw e;
        } finally {
            inFlight = null;
        }
    }

    /**
     * The first part of a transaction: {@code changes} folded, then {@code then} (recording a position, say) in the
     * same round trip where the applier can. After a constraint error the transaction is rolled back and written
     * again one by one. Does not commit.
     */
    void writeFirstPart(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, SqlStep then)
            throws SQLException {
        try {
            write(c, changes, keep, null);
            then.run(c);
            applier.flush(c);
        } catch (SQLException e) {
            if (!isConstraint(e)) {
                throw e;
            }
            rollback(c);
            writeOneByOne(c, changes, keep, null, e);
            then.run(c);
            applier.flush(c);
        }
    }

    /**
     * A further part of an open transaction, after a savepoint: a constraint error rolls back to it only, and the
     * part is written again one by one. Does not commit.
     */
    void writeAfterSavepoint(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep)
            throws SQLException {
        Savepoint sp = c.setSavepoint();
        try {
            write(c, changes, keep, null);
            applier.flush(c);
        } catch (SQLException e) {
            if (!isConstraint(e)) {
                throw e;
            }
            c.rollback(sp);
            applier.rolledBack(c);
            writeOneByOne(c, changes, keep, null, e);
            applier.flush(c);
        }
        c.releaseSavepoint(sp);
    }

    /** Writes the changes change by change, in log order. Does not commit. */
    private void writeOneByOne(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope,
                               SQLException why) throws SQLException {
        log.info("a folded batch hit a constraint ({}); applying its {} changes one by one", why.getSQLState(),
                changes.size());
        for (Change ch : changes) {
            write(c, List.of(ch), keep, scope);
        }
    }

    /** Writes the changes folded per table (the applier may hold statements back until a flush). Does not commit. */
    private void write(Connection c, List<Change> changes, Map<String, List<KeyRange>> keep, KeyRange scope)
            throws SQLException {
        for (ChangeReducer.TableBatch tb : ChangeReducer.reduce(changes)) {
            ChangeApplier.ApplyTable at = tables.get(tb.table());
            if (at == null || givenUp.contains(tb.table())) {
                continue; // a table the publication carries but this migration does not move, or one given up
            }
            if (tb.truncateFirst()) {
                applier.truncate(c, at, scope, keep.getOrDefault(tb.table(), List.of()));
            }
            if (!tb.changes().isEmpty()) {
                applier.apply(c, at, tb.changes());
            }
        }
    }

    /** A write on the open transaction, such as recording a position. */
    interface SqlStep {
        void run(Connection c) throws SQLException;
    }
}
