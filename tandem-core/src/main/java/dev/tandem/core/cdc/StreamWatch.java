package dev.tandem.core.cdc;

import dev.tandem.core.error.SqlErrors;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.store.StreamDirection;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches one stream's capture (twice a second, on its own thread) and tells a stream that stopped for good from one
 * that lost its source for a while: the first becomes a {@link StreamFailure} naming the side and whether it can
 * resume, the second is started again from its confirmed position until {@code cdc.reconnect_timeout} runs out.
 */
final class StreamWatch implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(StreamWatch.class);

    /** What the watch needs of the stream's runner. */
    interface Watched {
        /** The capture running now. */
        ChangeCapture.ChangeStream current();

        /** Closes {@code failed} and starts the capture again from the confirmed position, unless stopped. */
        void restart(ChangeCapture.ChangeStream failed);

        boolean stopped();
    }

    private final String migrationId;
    private final StreamDirection direction;
    private final String streamName;
    private final Connector source;
    private final ChangeCapture capture;
    private final Duration reconnectTimeout;
    private final boolean keepTransactions;
    private final Consumer<String> warn;
    private final Watched watched;
    /** The apply side's error, as the sink threw it (a capture error leaves this null). */
    private final AtomicReference<Throwable> applyFailure = new AtomicReference<>();
    /** Why the stream stopped for good, once it did (reconnecting is not stopping). */
    private volatile StreamFailure failed;
    /** Whether the stream is down and reconnecting. */
    private volatile boolean down;
    /** Since when it is down (nanoTime; meaningful while {@link #down}). */
    private long downSince;
    private int reconnects;
    /** Batches the sink took: a capture started again that delivers one is back. */
    private final AtomicLong deliveries = new AtomicLong();
    /** {@link #deliveries} when the capture was last started again. */
    private volatile long deliveriesAtRestart;

    /** @param source the side the stream reads */
    StreamWatch(ChangeStreamRunner.Spec spec, String streamName, Connector source, ChangeCapture capture,
                Consumer<String> warn, Watched watched) {
        this.migrationId = spec.migrationId();
        this.direction = spec.direction();
        this.streamName = streamName;
        this.source = source;
        this.capture = capture;
        this.reconnectTimeout = spec.reconnectTimeout();
        this.keepTransactions = spec.keepTransactions();
        this.warn = warn;
        this.watched = watched;
    }

    /** The sink threw {@code e}: the apply side failed. */
    void applyFailed(Throwable e) {
        applyFailure.compareAndSet(null, e);
    }

    /** The stream stops for a schema change (found in it, or by comparing the catalogs). */
    void schemaStopped(SchemaStop stop) {
        if (failed == null) {
            failed = new StreamFailure(direction, StreamFailure.reading(direction), StreamFailure.Kind.SCHEMA_CHANGE,
                    stop.getMessage(), stop);
        }
    }

    /** The sink took a batch (heartbeats make one every heartbeat interval, even on an idle source). */
    void delivered() {
        deliveries.incrementAndGet();
    }

    /** Why the stream stopped for good, or null. */
    StreamFailure failed() {
        return failed;
    }

    /** Whether the capture is down and being started again. */
    boolean reconnecting() {
        return down;
    }

    @Override
    public void run() {
        while (!watched.stopped() && failed == null) {
            try {
                watch();
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("watching the {} stream of {}: {}", direction.wire(), migrationId, e.getMessage());
            }
        }
    }

    /**
     * One look at the capture. A failure of the apply side ends the stream. A failure of the side it reads ends it
     * when the stream's state there is gone (nothing to resume from), or when that side answers and the error is not
     * a lost connection (a configuration or privilege problem: retrying would only hide it). Otherwise the side is
     * away — a restart, a failover, a network cut — and the capture is started again from the confirmed position
     * once it answers and still keeps the stream's state, tried after 1, 2, 4, 8 and then every 10 s for up to
     * {@code reconnectTimeout}. Changes after the confirmed position come again; applying is idempotent, as after a
     * crash. A stream that keeps source transactions holds a transaction's first part in the applier, which a second
     * delivery would double: it is not retried.
     */
    private void watch() throws InterruptedException {
        ChangeCapture.ChangeStream s = watched.current();
        Optional<Throwable> error = s == null ? Optional.empty() : s.failure();
        if (error.isEmpty()) {
            if (down && s.running() && deliveries.get() > deliveriesAtRestart) {
                log.info("the {} stream of {} runs again after {} reconnect(s)", direction.wire(), migrationId,
                        reconnects);
                say("  the change stream is back on the " + reading() + ", resumed from its confirmed position");
                down = false;
            }
            return;
        }
        Throwable e = error.get();
        Throwable applied = applyFailure.get();
        if (applied instanceof SchemaStop stop) {
            schemaStopped(stop);
            return;
        }
        if (applied != null) {
            failed = new StreamFailure(direction, StreamFailure.applying(direction), StreamFailure.Kind.APPLY,
                    message(applied), applied);
            return;
        }
        SourceCheck check = checkSource();
        if (check.gone() != null) {
            failed = new StreamFailure(direction, StreamFailure.reading(direction), StreamFailure.Kind.STREAM_GONE,
                    check.gone() + " (the stream stopped with: " + message(e) + ")", e);
            return;
        }
        if (keepTransactions || (!down && check.reachable() && !connectionLost(e))) {
            failed = new StreamFailure(direction, StreamFailure.reading(direction), StreamFailure.Kind.READ_FAILED,
                    message(e), e);
            return;
        }
        long now = System.nanoTime();
        if (!down) {
            down = true;
            downSince = now;
            reconnects = 0;
            say("  the change stream lost the " + reading() + " (" + message(e) + "); reconnecting for up to "
                    + reconnectTimeout.toSeconds() + " s (cdc.reconnect_timeout)");
        }
        if (now - downSince > reconnectTimeout.toNanos()) {
            failed = new StreamFailure(direction, StreamFailure.reading(direction), StreamFailure.Kind.SOURCE_LOST,
                    "the " + reading() + " stayed unreachable for " + TimeUnit.NANOSECONDS.toSeconds(now - downSince)
                    + " s (" + reconnects + " attempts to reconnect, cdc.reconnect_timeout "
                    + reconnectTimeout.toSeconds() + " s): " + message(e), e);
            return;
        }
        Thread.sleep(Math.min(10_000, 1_000L << Math.min(reconnects, 4)));
        reconnects++;
        // started again only while the side answers and still keeps the stream's slot: a capture started on a
        // source without it would make a new slot and silently skip every change in between
        SourceCheck again = checkSource();
        if (again.reachable() && again.gone() == null) {
            deliveriesAtRestart = deliveries.get();
            watched.restart(s);
        }
    }

    /**
     * What the side the stream reads says of the stream's state there.
     *
     * @param reachable whether it answered
     * @param gone      why the stream's state there is gone for good, or null
     */
    private record SourceCheck(boolean reachable, String gone) {
    }

    private SourceCheck checkSource() {
        try (Connection c = source.connect()) {
            return new SourceCheck(true, capture.streamGone(c, streamName).orElse(null));
        } catch (SQLException | RuntimeException e) {
            return new SourceCheck(false, null);
        }
    }

    /** A connection that broke or could not be made, or a server going down or starting: worth reconnecting. */
    static boolean connectionLost(Throwable e) {
        for (Throwable cur = e; cur != null; cur = cur.getCause() == cur ? null : cur.getCause()) {
            if (cur instanceof SQLException se) {
                SqlErrors.Kind k = SqlErrors.classify(se);
                if (k == SqlErrors.Kind.CONNECTION || k == SqlErrors.Kind.UNAVAILABLE) {
                    return true;
                }
            }
            if (cur instanceof java.io.IOException || cur.getClass().getSimpleName().equals("RetriableException")) {
                return true;
            }
        }
        return false;
    }

    private String reading() {
        return direction == StreamDirection.FORWARD ? "source" : "target";
    }

    private String message(Throwable e) {
        String m = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return source.endpoint().scrub(m);
    }

    private void say(String line) {
        if (warn != null) {
            warn.accept(line);
        }
    }
}
