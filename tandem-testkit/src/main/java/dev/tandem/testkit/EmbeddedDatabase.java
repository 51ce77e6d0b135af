package dev.tandem.testkit;

import java.sql.Connection;
import java.sql.SQLException;

/** What every embedded database of the testkit offers, whatever its engine. */
public interface EmbeddedDatabase extends AutoCloseable {
    int port();

    /** The JDBC URL of its default database (no credentials in it). */
    String jdbcUrl();

    /** A connection to its default database as its superuser. */
    Connection connect() throws SQLException;

    /** Runs statements as its superuser in its default database; a failure is an {@link IllegalStateException}. */
    void execute(String... sql);

    /** Stops the server. */
    @Override
    void close();
}
