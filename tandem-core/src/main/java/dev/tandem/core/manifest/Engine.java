package dev.tandem.core.manifest;

import java.util.Locale;
import java.util.Optional;

/**
 * The database engines Tandem has connectors for, by the name a connector goes by and a JDBC URL starts with
 * ({@code jdbc:postgresql:}, {@code jdbc:mysql:}, {@code jdbc:mariadb:}).
 */
public enum Engine {
    POSTGRESQL("postgresql"),
    MYSQL("mysql"),
    MARIADB("mariadb");

    private final String wire;

    Engine(String wire) {
        this.wire = wire;
    }

    /** The connector's name and the JDBC subprotocol. */
    public String wire() {
        return wire;
    }

    /** The engine of a connector name or JDBC subprotocol (any case); empty for one Tandem has no connector for. */
    public static Optional<Engine> of(String name) {
        if (name == null) {
            return Optional.empty();
        }
        String n = name.toLowerCase(Locale.ROOT);
        for (Engine e : values()) {
            if (e.wire.equals(n)) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** The engine a JDBC URL names; empty when it names none Tandem knows. */
    public static Optional<Engine> ofUrl(String jdbcUrl) {
        return of(JdbcUrls.subprotocol(jdbcUrl));
    }

    /** MySQL or MariaDB: one connector family, binlog change capture. */
    public boolean mysqlFamily() {
        return this == MYSQL || this == MARIADB;
    }

    /** The change capture {@code cdc.method: auto} picks on this engine as a source. */
    public Cdc.Method logMethod() {
        return this == POSTGRESQL ? Cdc.Method.LOGICAL_REPLICATION : Cdc.Method.BINLOG;
    }
}
