package dev.tandem.core.manifest;

import java.time.Duration;

/**
 * {@code cdc:} how changes made after the copy starts reach the target (seed 000).
 *
 * @param timestampColumn for {@code timestamp_column}: the column that every write sets to its time
 * @param pollInterval    for {@code timestamp_column}: how often to poll
 * @param overlapWindow   for {@code timestamp_column}: how far behind its newest value each poll reads again, so a
 *                        row whose transaction committed after a later-stamped one is not missed; must exceed the
 *                        longest write transaction (plus clock skew between writers)
 * @param apply           how streamed changes are committed on the target
 * @param reconnectTimeout how long a stream that lost its source (a restart, a failover, a network cut) tries to
 *                        reconnect and resume from its confirmed position before the migration fails
 * @param onSchemaChange  what a schema change of an in-scope table on the source does ({@code cdc.on_schema_change})
 * @param schemaCheckInterval how often the source's and the target's catalogs are compared for DDL that no change
 *                        in the stream showed yet ({@code cdc.schema_check_interval})
 */
public record Cdc(Method method, String timestampColumn, Duration pollInterval, Duration heartbeatInterval,
                  Duration overlapWindow, Apply apply, Duration reconnectTimeout, OnSchemaChange onSchemaChange,
                  Duration schemaCheckInterval) {
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_OVERLAP_WINDOW = Duration.ofMinutes(1);
    /** How often an idle stream still confirms a position, so an idle source keeps no growing log. */
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(10);
    /** Long enough for a PostgreSQL restart or a managed failover; short enough that a dead source is said. */
    public static final Duration DEFAULT_RECONNECT_TIMEOUT = Duration.ofMinutes(5);
    /** A catalog query per table and side every half minute: cheap, and DDL nothing touched is found in time. */
    public static final Duration DEFAULT_SCHEMA_CHECK_INTERVAL = Duration.ofSeconds(30);
    public static final Cdc AUTO = new Cdc(Method.AUTO, null, DEFAULT_POLL_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL,
            DEFAULT_OVERLAP_WINDOW, Apply.GROUP_COMMIT, DEFAULT_RECONNECT_TIMEOUT, OnSchemaChange.STOP,
            DEFAULT_SCHEMA_CHECK_INTERVAL);
    public static final Cdc NONE = new Cdc(Method.NONE, null, DEFAULT_POLL_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL,
            DEFAULT_OVERLAP_WINDOW, Apply.GROUP_COMMIT, DEFAULT_RECONNECT_TIMEOUT, OnSchemaChange.STOP,
            DEFAULT_SCHEMA_CHECK_INTERVAL);

    public enum Method {
        /** The best the source offers: logical replication on PostgreSQL, the binlog on MySQL/MariaDB. */
        AUTO,
        LOGICAL_REPLICATION,
        BINLOG,
        /** Poll a timestamp column; works on any JDBC source, with the limits stated in the docs. */
        TIMESTAMP_COLUMN,
        NONE
    }

    /** {@code cdc.apply}. */
    public enum Apply {
        /**
         * Many source transactions per target transaction, folded per key (fastest). A reader of the target may see
         * part of a source transaction until the next batch commits.
         */
        GROUP_COMMIT,
        /**
         * One target transaction per source transaction, committed in source order: the target only ever shows
         * states the source had (from the end of the backfill on). Slower: one target commit per source commit.
         */
        SOURCE_TRANSACTIONS
    }

    /**
     * {@code cdc.on_schema_change}: what the stream does when an in-scope table's columns on the source no longer
     * match the target's (DESIGN.md correctness point 6).
     */
    public enum OnSchemaChange {
        /**
         * The stream stops before the first change of the new shape (nothing from there on is applied or confirmed),
         * the migration pauses, an alert fires and status names the table, the difference and the statement for the
         * target; after it is run there, {@code tandem resume} continues from the confirmed position.
         */
        STOP,
        /**
         * Tandem alters the target itself, in order with the data, for the safe subset: a column added (nullable, or
         * with a constant default), a column dropped, a type widened. Anything else stops as {@link #STOP} does.
         */
        APPLY,
        /** The migration aborts, as when an abort threshold is crossed. */
        ABORT
    }

    public boolean enabled() {
        return method != Method.NONE;
    }
}
