package dev.tandem.router;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.SQLException;

/** What a {@link LogicalStatement} needs of the logical connection it belongs to. */
interface StatementHost {
    /** The logical connection the application holds ({@code Statement.getConnection}). */
    Connection proxy();

    /** Incremented at each rebinding; a statement prepared on an older binding is prepared again. */
    long generation();

    /** The physical connection of the current transaction, taken now (without a transaction) if none is held. */
    Connection physical() throws SQLException;

    /** A statement is about to run: a transaction begins here unless one is open (a write passes the gate). */
    void begin() throws SQLException;

    /** A statement ran: in auto-commit mode that was the transaction. */
    void afterStatement();

    /** Whether a read now is also compared on the other side (shadow traffic). */
    boolean shadow();

    /** {@code m} on {@code on}, with the exception the call threw rather than reflection's wrapper. */
    static Object call(Method m, Object on, Object[] args) throws Throwable {
        try {
            return m.invoke(on, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
