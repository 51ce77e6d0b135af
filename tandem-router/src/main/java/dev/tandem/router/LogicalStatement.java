package dev.tandem.router;

import static dev.tandem.router.StatementHost.call;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One logical statement of a logical connection ({@link StatementHost}): prepared lazily on the physical connection
 * of the transaction that runs it, and prepared again, with its settings and the parameters set so far, when a later
 * transaction runs on the other side.
 */
final class LogicalStatement implements InvocationHandler {
    private static final Set<String> STATEMENT_SETTINGS = Set.of("setFetchSize", "setMaxRows", "setQueryTimeout",
            "setFetchDirection", "setEscapeProcessing", "setCursorName", "setPoolable", "setLargeMaxRows",
            "setMaxFieldSize", "closeOnCompletion");

    private final StatementHost conn;
    private final Method creator;
    private final Object[] creatorArgs;
    private final String sql;
    private final ShadowReads shadows;
    Object proxy;
    private Statement physical;
    private long generation = -1;
    private boolean closed;
    private final Map<String, ShadowReads.Invocation> settings = new LinkedHashMap<>();
    private final Map<Object, ShadowReads.Invocation> params = new LinkedHashMap<>();

    LogicalStatement(StatementHost conn, Method creator, Object[] creatorArgs, ShadowReads shadows) {
        this.conn = conn;
        this.shadows = shadows;
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
                return conn.proxy();
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
            return physical == null || generation != conn.generation() ? null : call(m, physical, args);
        }
        if (sql != null && (name.startsWith("set") || name.startsWith("register")) && args != null
                && args.length >= 1 && (args[0] instanceof Integer || args[0] instanceof String)) {
            // keyed by the index or name itself: no key built per parameter on the hot path
            params.put(name.startsWith("register") ? List.of("out", args[0]) : args[0],
                    new ShadowReads.Invocation(m, args));
            return physical == null || generation != conn.generation() ? null : call(m, physical, args);
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
        if (physical == null || generation != conn.generation()) {
            if (physical != null) {
                physical.close();
            }
            physical = (Statement) call(creator, c, creatorArgs);
            generation = conn.generation();
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
