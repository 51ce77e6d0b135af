package dev.tandem.router;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The {@code DataSource} an application uses instead of its pool during a migration. It wraps two pools — the
 * source's and the target's, of whatever pool library the application uses — and hands out logical connections
 * that take a physical connection from one of them per transaction, by the live routing state
 * ({@link RoutingPolicy}) and the thread's {@link TandemContext}:
 * <ul>
 *   <li>a <b>read-only</b> connection ({@code setReadOnly(true)}, Spring's {@code @Transactional(readOnly = true)})
 *       reads where {@link RoutingPolicy#reads} says, and passes no gate: reads go on during a freeze;</li>
 *   <li>any other connection is a <b>write</b> transaction: it runs on the authoritative side
 *       ({@link RoutingPolicy#writes}: the source until the cutover, the target after it) and passes the
 *       {@link WriteGate} when it begins — during a cutover or rollback it waits there (at most the freeze timeout)
 *       while the transactions in flight drain;</li>
 *   <li>with {@code shadow_traffic}, a read ({@code executeQuery} of a SELECT) is also compared on both sides,
 *       asynchronously ({@link ShadowReads}); the mismatch rate is in {@link #stats}.</li>
 * </ul>
 * A transaction begins at the first statement executed outside one (every statement in auto-commit mode) and ends
 * at commit, rollback or close. Statements are logical too: the physical statement is prepared on the connection of
 * the current transaction, and prepared again (with the parameters set so far) when a later transaction runs on the
 * other side, so an application may keep a statement across transactions while routing changes under it.
 * <p>Hot path: a routing decision reads one volatile reference and hashes the user id (shares); the gate is two atomic
 * operations while open. Nothing is parsed, nothing is copied.
 */
public final class RoutingDataSource implements DataSource, AutoCloseable {

    private final RoutingParts routing;
    private final WriteGate gate;
    private final RouterStats stats;
    private PrintWriter logWriter;
    private int loginTimeout;

    /**
     * @param policy the routing decisions to use now, asked at every transaction's start (a {@link RoutingClient}'s
     *               {@code policy()}, or a fixed one)
     */
    public RoutingDataSource(DataSource source, DataSource target, Supplier<RoutingPolicy> policy) {
        this.gate = new WriteGate();
        this.stats = new RouterStats();
        this.routing = new RoutingParts(source, target, policy, gate, stats, new ShadowReads(source, target, stats));
    }

    /**
     * A routing DataSource that follows {@code client}: its decisions are the client's newest state's, its gate
     * closes when a state freezes writes (the client acknowledges once the transactions in flight drained) and
     * opens again with the next state; acknowledgements carry {@link #stats} and the write pause of the last freeze.
     */
    public static RoutingDataSource following(DataSource source, DataSource target, RoutingClient client) {
        RoutingDataSource ds = new RoutingDataSource(source, target, client::policy);
        client.follower(ds.follower());
        return ds;
    }

    public RouterStats stats() {
        return stats;
    }

    /** Write transactions now between their start and their end. */
    public long writesInFlight() {
        return gate.inFlight();
    }

    /** What a {@link RoutingClient} calls for each new routing state before acknowledging it. */
    RoutingClient.Follower follower() {
        return new RoutingClient.Follower() {
            private long frozenEpoch = -1;
            private Map<String, Object> pause;

            @Override
            public boolean apply(RoutingState state, long waitMs) throws InterruptedException {
                if (state.frozen()) {
                    if (frozenEpoch < 0) {
                        frozenEpoch = state.epoch();
                    }
                    gate.close();
                    return gate.awaitDrained(waitMs);
                }
                boolean wasClosed = gate.closed();
                gate.open();
                if (wasClosed) {
                    WriteGate.Pause p = gate.pause(1000);
                    pause = pauseReport(frozenEpoch, state.epoch(), p);
                    frozenEpoch = -1;
                }
                return true;
            }

            @Override
            public Map<String, Object> report() {
                Map<String, Object> m = new LinkedHashMap<>(stats.snapshot());
                m.put("writes_in_flight", gate.inFlight());
                m.put("frozen", gate.closed());
                if (pause != null) {
                    m.put("write_pause", pause);
                }
                return m;
            }
        };
    }

    private static Map<String, Object> pauseReport(long frozenEpoch, long openedEpoch, WriteGate.Pause p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("frozen_epoch", frozenEpoch);
        m.put("opened_epoch", openedEpoch);
        m.put("timeouts", p.timeouts());
        long[] waits = p.waitsMicros();
        // a uniform sample past 5,000 transactions keeps the acknowledgement under the server's 64 KiB bound; the
        // exact maximum goes apart, as a sample would miss it
        int step = Math.max(1, (waits.length + 4_999) / 5_000);
        List<Long> sample = new ArrayList<>();
        long max = 0;
        for (int i = 0; i < waits.length; i++) {
            max = Math.max(max, waits[i]);
            if (i % step == 0) {
                sample.add(waits[i]);
            }
        }
        m.put("blocked", waits.length);
        m.put("max_us", max);
        m.put("waits_us", sample);
        return m;
    }

    @Override
    public Connection getConnection() {
        return LogicalConnection.open(routing, TandemContext.current());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException("the routing DataSource takes connections from the two pools it "
                + "wraps, with their credentials; use getConnection()");
    }

    @Override
    public PrintWriter getLogWriter() {
        return logWriter;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        logWriter = out;
    }

    @Override
    public void setLoginTimeout(int seconds) {
        loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("slf4j: dev.tandem.router");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public void close() {
        routing.shadows().close();
    }
}
