package dev.tandem.core.error;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;

/**
 * The one place where SQLSTATEs are classified (HikariCP's ProxyConnection.checkException, Debezium's
 * PostgresErrorHandler). Callers decide what to do by {@link Kind}, never by matching states themselves.
 */
public final class SqlErrors {
    private SqlErrors() {
    }

    /** What an SQL error means for the caller. */
    public enum Kind {
        /** Class 08 and friends: the connection is gone or could not be made. Retry with backoff. */
        CONNECTION,
        /** Class 28: bad user or password. Retrying will not help; fail fast and say so. */
        AUTHENTICATION,
        /** 40001 serialization failure, 40P01 / MySQL 1213 deadlock, 1205 lock wait timeout: retry the transaction. */
        RETRY_TRANSACTION,
        /** 42501 / MySQL 1044, 1142, 1227: a privilege is missing. Name the GRANT. */
        PRIVILEGE,
        /** The database, schema or table does not exist (3D000, 42P01, 3F000, MySQL 1049, 1146). */
        UNDEFINED_OBJECT,
        /** The server is shutting down or overloaded (57P01-57P03, 53300 too many connections). Retry later. */
        UNAVAILABLE,
        /** Class 23: a unique, foreign key or check constraint refused the write (MySQL 1062, 1451, 1452). */
        CONSTRAINT,
        /** 55006: the object is in use (a replication slot still held by a stream shutting down). Retry shortly. */
        OBJECT_IN_USE,
        /** 57014: the statement was canceled (a timeout, or a router's write gate giving up: nothing was written). */
        CANCELED,
        /** Anything else: a bug or bad data. Do not retry blindly. */
        OTHER
    }

    private static final Set<Integer> MYSQL_PRIVILEGE = Set.of(1044, 1142, 1143, 1227, 1370);
    private static final Set<Integer> MYSQL_RETRY = Set.of(1213, 1205);
    private static final Set<Integer> MYSQL_UNDEFINED = Set.of(1049, 1146);
    private static final Set<Integer> MYSQL_AUTH = Set.of(1045, 1698);
    private static final Set<Integer> MYSQL_UNAVAILABLE = Set.of(1040, 1053);
    private static final Set<Integer> MYSQL_CONSTRAINT = Set.of(1062, 1451, 1452);

    public static Kind classify(SQLException e) {
        for (SQLException cur = e; cur != null; cur = cur.getNextException()) {
            Kind k = classifyOne(cur);
            if (k != Kind.OTHER) {
                return k;
            }
        }
        return Kind.OTHER;
    }

    private static Kind classifyOne(SQLException e) {
        if (e instanceof SQLTransientConnectionException) {
            return Kind.CONNECTION;
        }
        int vendor = e.getErrorCode();
        if (MYSQL_AUTH.contains(vendor)) {
            return Kind.AUTHENTICATION;
        }
        if (MYSQL_PRIVILEGE.contains(vendor)) {
            return Kind.PRIVILEGE;
        }
        if (MYSQL_RETRY.contains(vendor)) {
            return Kind.RETRY_TRANSACTION;
        }
        if (MYSQL_UNDEFINED.contains(vendor)) {
            return Kind.UNDEFINED_OBJECT;
        }
        if (MYSQL_UNAVAILABLE.contains(vendor)) {
            return Kind.UNAVAILABLE;
        }
        if (MYSQL_CONSTRAINT.contains(vendor)) {
            return Kind.CONSTRAINT;
        }
        String state = e.getSQLState();
        if (state == null || state.length() < 2) {
            return Kind.OTHER;
        }
        switch (state) {
            case "40001", "40P01" -> {
                return Kind.RETRY_TRANSACTION;
            }
            case "42501" -> {
                return Kind.PRIVILEGE;
            }
            case "3D000", "42P01", "3F000", "42S02" -> {
                return Kind.UNDEFINED_OBJECT;
            }
            case "57P01", "57P02", "57P03", "53300" -> {
                return Kind.UNAVAILABLE;
            }
            case "55006" -> {
                return Kind.OBJECT_IN_USE;
            }
            case "57014" -> {
                return Kind.CANCELED;
            }
            default -> {
            }
        }
        return switch (state.substring(0, 2)) {
            case "08" -> Kind.CONNECTION;
            case "28" -> Kind.AUTHENTICATION;
            case "23" -> Kind.CONSTRAINT;
            default -> Kind.OTHER;
        };
    }

    /** Whether {@code e} is {@code kind}, looking through a cause that is an SQLException (store errors wrap one). */
    public static boolean is(Throwable e, Kind kind) {
        for (Throwable cur = e; cur != null; cur = cur.getCause()) {
            if (cur instanceof SQLException se) {
                return classify(se) == kind;
            }
        }
        return false;
    }

    /** Whether doing the same thing again, after a pause, may succeed. */
    public static boolean isRetryable(SQLException e) {
        Kind k = classify(e);
        return k == Kind.CONNECTION || k == Kind.RETRY_TRANSACTION || k == Kind.UNAVAILABLE;
    }
}
