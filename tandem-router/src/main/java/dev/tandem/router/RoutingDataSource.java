package dev.tandem.router;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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
    private static final Set<String> CONNECTION_SETTINGS = Set.of("setAutoCommit", "setReadOnly",
            "setTransactionIsolation", "setCatalog", "setSchema", "setHoldability", "setClientInfo",
            "setNetworkTimeout", "setTypeMap");
    private static final Set<String> STATEMENT_SETTINGS = Set.of("setFetchSize", "setMaxRows", "setQueryTimeout",
            "setFetchDirection", "setEscapeProcessing", "setCursorName", "setPoolable", "setLargeMaxRows",
            "setMaxFieldSize", "closeOnCompletion");

    private final DataSource source;
    private final DataSource target;
    private final Supplier<RoutingPolicy> policy;
    private final WriteGate gate = new WriteGate();
    private final RouterStats stats = new RouterStats();
    private final ShadowReads shadows;
    private PrintWriter logWriter;
    private int loginTimeout;

    /**
     * @param policy the routing decisions to use now, asked at every transaction's start (a {@link RoutingClient}'s
     *               {@code policy()}, or a fixed one)
     */
    public RoutingDataSource(DataSource source, DataSource target, Supplier<RoutingPolicy> policy) {
        this.source = source;
        this.target = target;
        this.policy = policy;
        this.shadows = new ShadowReads(source, target, stats);
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
        int step = Math.max(1, waits.length / 20_000); // a uniform sample past 20,000 transactions
        List<Long> sample = new ArrayList<>();
        for (int i = 0; i < waits.length; i += step) {
            sample.add(waits[i]);
        }
        m.put("blocked", waits.length);
        m.put("waits_us", sample);
        return m;
    }

    @Override
    public Connection getConnection() {
        LogicalConnection h = new LogicalConnection(TandemContext.current());
        Connection proxy = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, h);
        h.proxy = proxy;
        return proxy;
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
        shadows.close();
    }

    private static Object call(Method m, Object on, Object[] args) throws Throwable {
        try {
            return m.invoke(on, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** One logical connection: which physical connection serves the current transaction, and the gate pass. */
    private final class LogicalConnection implements InvocationHandler {
        private final TandemContext ctx;
        private Connection proxy;
        private Connection physical;
        private Side side;
        /** Incremented at each rebinding; a statement prepared on an older binding is prepared again. */
        private long generation;
        private boolean readOnly;
        private boolean autoCommit = true;
        private boolean inTransaction;
        private boolean holdsGate;
        private boolean closed;
        private final Map<String, ShadowReads.Invocation> settings = new LinkedHashMap<>();

        LogicalConnection(TandemContext ctx) {
            this.ctx = ctx;
        }

        @Override
        public Object invoke(Object p, Method m, Object[] args) throws Throwable {
            String name = m.getName();
            switch (name) {
                case "close":
                    close();
                    return null;
                case "isClosed":
                    return closed;
                case "unwrap":
                    return ((Class<?>) args[0]).isInstance(p) ? p : call(m, physical(), args);
                case "isWrapperFor":
                    return ((Class<?>) args[0]).isInstance(p) || (boolean) call(m, physical(), args);
                case "toString":
                    return "tandem routed connection (" + (side == null ? "unbound" : side.name().toLowerCase(
                            Locale.ROOT)) + ")";
                case "hashCode":
                    return System.identityHashCode(p);
                case "equals":
                    return p == args[0];
                case "getAutoCommit":
                    return autoCommit;
                case "isReadOnly":
                    return readOnly;
                case "createStatement":
                case "prepareStatement":
                case "prepareCall":
                    open();
                    return statement(m, args);
                case "commit":
                case "rollback":
                    try {
                        if (physical != null) {
                            call(m, physical, args);
                        }
                    } finally {
                        if (args == null || args.length == 0) {
                            end();
                        }
                    }
                    return null;
                default:
                    break;
            }
            open();
            if (CONNECTION_SETTINGS.contains(name)) {
                if (name.equals("setAutoCommit")) {
                    boolean on = (boolean) args[0];
                    if (on && !autoCommit) {
                        end(); // JDBC: switching auto-commit on commits the transaction
                    }
                    autoCommit = on;
                } else if (name.equals("setReadOnly")) {
                    readOnly = (boolean) args[0];
                }
                String key = name + (name.equals("setClientInfo") && args.length == 2 ? ":" + args[0] : "");
                settings.put(key, new ShadowReads.Invocation(m, args));
                return physical == null ? null : call(m, physical, args);
            }
            return call(m, physical(), args);
        }

        private void open() throws SQLException {
            if (closed) {
                throw new SQLException("connection is closed", "08003");
            }
        }

        /** The physical connection, taken now (without a transaction) if none is held. */
        Connection physical() throws SQLException {
            if (physical == null) {
                RoutingPolicy p = policy.get();
                bind(readOnly ? p.reads(ctx) : p.writes());
            }
            return physical;
        }

        private void bind(Side to) throws SQLException {
            if (physical != null) {
                Connection old = physical;
                physical = null;
                old.close();
                stats.rebinds.increment();
            }
            Connection c = (to == Side.SOURCE ? source : target).getConnection();
            try {
                for (ShadowReads.Invocation i : settings.values()) {
                    i.replay(c);
                }
            } catch (Exception e) {
                c.close();
                throw e instanceof SQLException se ? se : new SQLException("cannot apply the connection's settings: "
                        + e, e);
            }
            physical = c;
            side = to;
            generation++;
        }

        /**
         * A statement is about to run: outside a transaction, a new one begins here — a write transaction passes the
         * gate — on the side the routing state names now.
         */
        void begin() throws SQLException {
            open();
            if (inTransaction) {
                return;
            }
            boolean write = !readOnly;
            if (write) {
                long timeout = policy.get().state().freezeTimeoutMs();
                try {
                    if (gate.enter(timeout)) {
                        stats.gateWaits.increment();
                    }
                } catch (SQLException e) {
                    stats.gateTimeouts.increment();
                    throw e;
                }
                holdsGate = true;
            }
            try {
                RoutingPolicy p = policy.get(); // read after the gate: a flip during the wait counts
                Side want = write ? p.writes() : p.reads(ctx);
                if (physical == null || side != want) {
                    bind(want);
                }
                inTransaction = true;
                if (write) {
                    stats.write(want);
                } else {
                    stats.read(want);
                }
            } catch (SQLException | RuntimeException e) {
                end();
                throw e;
            }
        }

        /** A statement ran: in auto-commit mode that was the transaction. */
        void afterStatement() {
            if (autoCommit) {
                end();
            }
        }

        void end() {
            inTransaction = false;
            if (holdsGate) {
                holdsGate = false;
                gate.exit();
            }
        }

        boolean shadow() {
            return policy.get().shadowReads(ctx);
        }

        private void close() throws SQLException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (physical != null) {
                    physical.close(); // a pool rolls back what was left open
                }
            } finally {
                physical = null;
                end();
            }
        }

        private Object statement(Method creator, Object[] args) {
            Class<?> type = creator.getName().equals("prepareCall") ? CallableStatement.class
                    : creator.getName().equals("prepareStatement") ? PreparedStatement.class : Statement.class;
            LogicalStatement h = new LogicalStatement(this, creator, args);
            Object proxyStatement = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h);
            h.proxy = proxyStatement;
            return proxyStatement;
        }
    }

    /** One logical statement: prepared lazily on the physical connection of the transaction that runs it. */
    private final class LogicalStatement implements InvocationHandler {
        private final LogicalConnection conn;
        private final Method creator;
        private final Object[] creatorArgs;
        private final String sql;
        private Object proxy;
        private Statement physical;
        private long generation = -1;
        private boolean closed;
        private final Map<String, ShadowReads.Invocation> settings = new LinkedHashMap<>();
        private final Map<Object, ShadowReads.Invocation> params = new LinkedHashMap<>();

        LogicalStatement(LogicalConnection conn, Method creator, Object[] creatorArgs) {
            this.conn = conn;
            this.creator = creator;
            this.creatorArgs = creatorArgs;
            this.sql = creatorArgs != null && creatorArgs.length > 0 && creatorArgs[0] instanceof String s ? s : null;
        }

        @Override
        public Object invoke(Object p, Method m, Object[] args) throws Throwable {
            String name = m.getName();
            switch (name) {
                case "close":
                    if (!closed) {
                        closed = true;
                        if (physical != null) {
                            physical.close();
                        }
                    }
                    return null;
                case "isClosed":
                    return closed;
                case "getConnection":
                    return conn.proxy;
                case "toString":
                    return "tandem routed statement" + (sql == null ? "" : ": " + sql);
                case "hashCode":
                    return System.identityHashCode(p);
                case "equals":
                    return p == args[0];
                case "clearParameters":
                    params.clear();
                    return physical == null ? null : call(m, physical, args);
                default:
                    break;
            }
            if (closed) {
                throw new SQLException("statement is closed", "HY010");
            }
            if (STATEMENT_SETTINGS.contains(name)) {
                settings.put(name, new ShadowReads.Invocation(m, args));
                return physical == null || generation != conn.generation ? null : call(m, physical, args);
            }
            if (sql != null && (name.startsWith("set") || name.startsWith("register")) && args != null
                    && args.length >= 1 && (args[0] instanceof Integer || args[0] instanceof String)) {
                // keyed by the index or name itself: no key built per parameter on the hot path
                params.put(name.startsWith("register") ? List.of("out", args[0]) : args[0],
                        new ShadowReads.Invocation(m, args));
                return physical == null || generation != conn.generation ? null : call(m, physical, args);
            }
            boolean runs = name.startsWith("execute") || name.equals("addBatch");
            if (runs) {
                conn.begin();
                try {
                    Object result = call(m, physical(), args);
                    if (conn.shadow() && isRead(name, args, result)) {
                        shadows.submit(new ShadowReads.Read(sql != null ? sql : (String) args[0],
                                List.copyOf(params.values())));
                    }
                    return result;
                } finally {
                    if (!name.equals("addBatch")) {
                        conn.afterStatement();
                    }
                }
            }
            return call(m, physical(), args);
        }

        /** A query whose rows can be compared: executeQuery (or execute with a result set) of a plain SELECT. */
        private boolean isRead(String name, Object[] args, Object result) {
            if (!(name.equals("executeQuery") || name.equals("execute") && Boolean.TRUE.equals(result))) {
                return false;
            }
            String text = sql != null ? sql : args != null && args.length > 0 && args[0] instanceof String s ? s : null;
            if (text == null) {
                return false;
            }
            String t = text.stripLeading().toLowerCase(Locale.ROOT);
            return t.startsWith("select") && !t.contains(" for update") && !t.contains(" for share")
                    && (sql == null || args == null || args.length == 0);
        }

        /** The physical statement on the current transaction's connection, prepared (again) if needed. */
        private Statement physical() throws Throwable {
            Connection c = conn.physical();
            if (physical == null || generation != conn.generation) {
                if (physical != null) {
                    physical.close();
                }
                physical = (Statement) call(creator, c, creatorArgs);
                generation = conn.generation;
                for (ShadowReads.Invocation i : settings.values()) {
                    i.replay(physical);
                }
                for (ShadowReads.Invocation i : params.values()) {
                    i.replay(physical);
                }
            }
            return physical;
        }
    }
}
