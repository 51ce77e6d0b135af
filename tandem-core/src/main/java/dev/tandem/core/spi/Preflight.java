package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Checks, without changing anything, that an endpoint can play its role in a migration. */
public interface Preflight {

    /**
     * Called by {@code tandem plan}, {@code POST /migrations/{id}/test} and before a migration starts, on a fresh
     * connection the caller owns. Runs every check and returns every finding, passed ones included; a failing check
     * is an {@link Finding.Severity#ERROR} finding with the fix (for privileges, the exact GRANT statements), never
     * an exception. A thrown SQLException means the connection itself failed, and the caller reports it as such.
     */
    List<Finding> check(Connection connection, PreflightRequest request) throws SQLException;
}
