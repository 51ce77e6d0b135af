package dev.tandem.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One embedded PostgreSQL per test class, shared by its methods:
 * {@code @RegisterExtension static final PostgresExtension PG = PostgresExtension.create();}
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback {
    private final EmbeddedPostgres.Builder builder;
    private EmbeddedPostgres server;

    private PostgresExtension(EmbeddedPostgres.Builder builder) {
        this.builder = builder;
    }

    /** A server with the testkit's defaults (wal_level=logical). */
    public static PostgresExtension create() {
        return new PostgresExtension(EmbeddedPostgres.builder());
    }

    public static PostgresExtension create(EmbeddedPostgres.Builder builder) {
        return new PostgresExtension(builder);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = builder.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    public EmbeddedPostgres server() {
        if (server == null) {
            throw new IllegalStateException("the PostgreSQL of this test class is not running; register the "
                    + "extension on a static field");
        }
        return server;
    }
}
