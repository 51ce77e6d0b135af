package dev.tandem.router;

import static dev.tandem.router.StatementHost.call;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One logical connection of a {@link RoutingDataSource}: which physical connection serves the current transaction,
 * and the write gate pass. Settings made on it are replayed on every physical connection it binds.
 */
final class LogicalConnection implements InvocationHandler, StatementHost {
    private static final Set<String> CONNECTION_SETTINGS = Set.of("setAutoCommit", "setReadOnly",
            "setTransactionIsolation", "setCatalog", "setSchema", "setHoldability", "setClientInfo",
            "setNetworkTimeout", "setTypeMap");

    private final RoutingParts routing;
    private final Supplier<RoutingPolicy> policy;
    private final WriteGate gate;
    private final RouterStats stats;
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

    private LogicalConnection(RoutingParts routing, TandemContext ctx) {
        this.routing = routing;
        this.policy = routing.policy();
        this.gate = routing.gate();
        this.stats = routing.stats();
        this.ctx = ctx;
    }

    /** A new logical connection for the thread whose context is {@code ctx}. */
    static Connection open(RoutingParts routing, TandemContext ctx) {
        LogicalConnection h = new LogicalConnection(routing, ctx);
        Connection proxy = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, h);
        h.proxy = proxy;
        return proxy;
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

    @Override
    public Connection proxy() {
        return proxy;
    }

    @Override
    public long generation() {
        return generation;
    }

    @Override
    public Connection physical() throws SQLException {
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
        Connection c = (to == Side.SOURCE ? routing.source() : routing.target()).getConnection();
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
    @Override
    public void begin() throws SQLException {
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

    @Override
    public void afterStatement() {
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

    @Override
    public boolean shadow() {
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
        LogicalStatement h = new LogicalStatement(this, creator, args, routing.shadows());
        Object proxyStatement = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h);
        h.proxy = proxyStatement;
        return proxyStatement;
    }
}
