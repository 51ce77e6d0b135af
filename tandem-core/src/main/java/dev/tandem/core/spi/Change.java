package dev.tandem.core.spi;

import java.time.Instant;
import java.util.List;

/**
 * One change read from the source's change log, in the form the apply side needs: values are the text the target
 * accepts as input for the column's type ({@code 2024-01-31 10:00:00.5+00}, {@code {1,2}}, {@code \x00ff}), or null
 * for SQL NULL. A column absent from {@link #columns} was not sent (PostgreSQL leaves unchanged TOAST values out of
 * an update): the target keeps its value.
 *
 * @param kind        what happened
 * @param table       the table, {@code schema.name}; null for a marker
 * @param key         the values of the table's chunk key columns, in key order (the old key for a delete)
 * @param columns     the columns whose values are present (upserts and partial updates), key columns included
 * @param values      their values, parallel to {@code columns}
 * @param position    the change's position in the log (an LSN), for confirming and for lag
 * @param committedAt when the source committed the change's transaction; null when the log does not say
 * @param marker      for {@link Kind#MARKER}: the text written with {@link ChangeCapture#fence}, or null for a heartbeat
 */
public record Change(Kind kind, String table, List<String> key, List<String> columns, List<String> values,
                     String position, Instant committedAt, String marker) {

    public enum Kind {
        /** Insert or update carrying the whole row: the row becomes exactly this. */
        UPSERT,
        /** Update carrying only some columns (the others did not change and were not sent). */
        PARTIAL_UPDATE,
        /** Delete by key. */
        DELETE,
        /** Every row of the table removed. */
        TRUNCATE,
        /** Nothing to apply: a heartbeat or a fence; it moves the position. */
        MARKER,
        /**
         * The end of a source transaction: the changes since the previous one were one transaction, committed at
         * {@link #committedAt}. Only sent when the stream was asked to keep transaction boundaries.
         */
        COMMIT,
        /**
         * From here on the source sends {@link #table}'s rows with the columns {@link #columns} (their names, in the
         * source's order): sent before a table's first row change in a stream, and again before the first one after
         * its shape changed on the source (DDL). Nothing to apply: the stream first checks that the target can take
         * rows of that shape ({@code cdc.on_schema_change}).
         */
        SCHEMA
    }

    public static Change marker(String position, Instant committedAt, String marker) {
        return new Change(Kind.MARKER, null, List.of(), List.of(), List.of(), position, committedAt, marker);
    }

    public static Change commit(String position, Instant committedAt) {
        return new Change(Kind.COMMIT, null, List.of(), List.of(), List.of(), position, committedAt, null);
    }

    public static Change schema(String table, List<String> columns, String position, Instant committedAt) {
        return new Change(Kind.SCHEMA, table, List.of(), List.copyOf(columns), List.of(), position, committedAt, null);
    }

    /** Roughly the memory this change holds, for bounding buffers. */
    public long sizeEstimate() {
        long n = 96;
        for (String v : values) {
            n += v == null ? 8 : 40 + 2L * v.length();
        }
        for (String k : key) {
            n += k == null ? 8 : 40 + 2L * k.length();
        }
        return n + 16L * columns.size();
    }
}
