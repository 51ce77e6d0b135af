package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * {@code cdc.method: timestamp_column}: changes found by polling a column that every write sets to its time
 * ({@code updated_at}), on any JDBC source, with no change log.
 * <p>How it works. Each table has a <em>watermark</em>: the newest value of the column seen so far (taken when the
 * stream starts, before the first chunk is copied, then carried forward in the stream's offsets). Every
 * {@code poll_interval} a cycle reads, per table, every row whose column is later than its watermark minus
 * {@code overlap_window}, and sends each as an upsert of the row's current state. Reading the overlap again is what
 * catches a row whose transaction committed after a later-stamped one had already been read; reading a row twice
 * is harmless since the apply is idempotent. Deletes leave nothing to poll, so every ten poll intervals (and for
 * every sync fence) a <em>key comparison</em> streams the target's keys and asks the source, in batches, which of
 * them still exist; the missing ones are sent as deletes. The target is read before the source, so a row inserted
 * meanwhile is never taken for a deleted one. A cycle's changes pass the same sink (chunk gates, batched apply) as
 * a log-based stream's, and the watermarks are stored only after the sink committed them.
 * <p>Positions are the source's clock at the start of a cycle (ISO-8601); lag is measured in seconds and records,
 * there are no log bytes. A fence ({@link #fence}) is delivered at the end of the first whole cycle (poll and key
 * comparison) that starts after it was asked for.
 * <p>Limits (README "Change data capture"): a write that does not set the column is not seen until the next key
 * comparison, and then only if it was an insert or delete (an update of such a row is missed); rows with the
 * column NULL are never polled; a transaction that stays open longer than {@code overlap_window} after stamping its
 * rows (or writers whose clocks differ by more) can be missed; each key comparison reads every key of both tables;
 * TRUNCATE shows up as deletes at the next key comparison.
 */
public final class TimestampColumnCapture implements ChangeCapture {
    public static final String KIND = "timestamp";

    private final TimestampPoller.Settings settings;
    private final ConcurrentLinkedQueue<String> fences = new ConcurrentLinkedQueue<>();
    private volatile TimestampPoller poller;


    /**
     * @param targets the target table of each source table, by the source's qualified name (empty when the
     *                capture is only opened)
     */
    public TimestampColumnCapture(Connector source, Connector target, String column, Duration pollInterval,
                                  Duration overlap, Map<String, TableRef> targets) {
        this.settings = new TimestampPoller.Settings(source, target, column, pollInterval, overlap, Map.copyOf(targets));
    }

    /**
     * Why {@code column} of {@code table} cannot be polled (missing, or not a date/time type), or empty when it can;
     * the connectors' preflights report it.
     */
    public static Optional<String> whyNotPollable(String column, TableInfo table) {
        Optional<String> type = table.column(column).map(c -> c.nativeType().toLowerCase(java.util.Locale.ROOT));
        if (type.isEmpty()) {
            return Optional.of("table " + table.ref().qualified() + " has no column " + column + " to poll");
        }
        if (!type.get().contains("timestamp") && !type.get().contains("date")) {
            return Optional.of(table.ref().qualified() + "." + column + " is " + type.get() + ", not a timestamp, "
                    + "so it cannot be polled");
        }
        return Optional.empty();
    }

    @Override
    public String positionKind() {
        return KIND;
    }

    /** Nothing is created on the source; P0 is its clock now. */
    @Override
    public String open(Connection c, String streamName, String owner, List<TableRef> tables) throws SQLException {
        return TimestampPoller.clock(c);
    }

    @Override
    public void drop(Connection c, String streamName, String owner) {
        // nothing was created
    }

    @Override
    public String fence(Connection c, String marker) throws SQLException {
        fences.add(marker);
        TimestampPoller p = poller;
        if (p != null) {
            p.wake();
        }
        return TimestampPoller.clock(c);
    }

    @Override
    public String currentPosition(Connection c) throws SQLException {
        return TimestampPoller.clock(c);
    }


    /** Milliseconds of source clock from {@code from} to {@code to}. */
    @Override
    public long distance(String from, String to) {
        try {
            return Math.max(0, Duration.between(Instant.parse(from), Instant.parse(to)).toMillis());
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** Polling sees rows, not the transactions that wrote them. */
    @Override
    public boolean knowsTransactions() {
        return false;
    }

    @Override
    public boolean distanceInBytes() {
        return false;
    }

    @Override
    public ChangeStream start(StreamSpec spec) {
        TimestampPoller p = new TimestampPoller(settings, spec, fences, closed -> {
            if (poller == closed) {
                poller = null;
            }
        });
        try {
            p.loadWatermarks();
        } catch (SQLException e) {
            p.closeConnections();
            throw new IllegalStateException("cannot read the starting " + settings.column() + " values on the "
                    + "source: " + settings.source().endpoint().scrub(e.getMessage()), e);
        }
        poller = p;
        p.thread.start();
        return p;
    }
}
