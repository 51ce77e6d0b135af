package dev.tandem.core.spi;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** Reads the shape of a database's tables. Read-only; every method runs on a connection the caller owns. */
public interface Introspector {

    /**
     * The schema an unqualified table name means: PostgreSQL's first existing schema on the search_path
     * ({@code public} usually), MySQL's current database.
     */
    String defaultSchema(Connection connection) throws SQLException;

    /**
     * Every user table the connection can see (system schemas excluded; for MySQL and MariaDB only the connected
     * database), sorted. Called to resolve the manifest's scope and to suggest names for a table not found.
     */
    List<TableRef> listTables(Connection connection) throws SQLException;

    /**
     * Whether {@link #listTables} leaves out tables the user has no privileges on (MySQL and MariaDB do), so that a
     * table missing from it may exist.
     */
    default boolean listsOnlyPrivilegedTables() {
        return false;
    }

    /**
     * Why a table that exists is not one of {@link #listTables} (PostgreSQL: it is a partition, which moves with its
     * partitioned parent), said as the end of "table x ..."; empty when it does not exist or nothing explains it.
     */
    default Optional<String> whyNotListed(Connection connection, TableRef table) throws SQLException {
        return Optional.empty();
    }

    /** The table's columns, keys and size estimates, or empty when it does not exist. */
    Optional<TableInfo> describe(Connection connection, TableRef table) throws SQLException;
}
