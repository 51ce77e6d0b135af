package dev.tandem.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One embedded MariaDB per test class, shared by its methods:
 * {@code @RegisterExtension static final MariaDbExtension DB = MariaDbExtension.create();}
 */
public final class MariaDbExtension implements BeforeAllCallback, AfterAllCallback {
    private final EmbeddedMariaDb.Builder builder;
    private EmbeddedMariaDb server;

    private MariaDbExtension(EmbeddedMariaDb.Builder builder) {
        this.builder = builder;
    }

    /** A server with the testkit's defaults (binary log on, ROW, FULL). */
    public static MariaDbExtension create() {
        return new MariaDbExtension(EmbeddedMariaDb.builder());
    }

    public static MariaDbExtension create(EmbeddedMariaDb.Builder builder) {
        return new MariaDbExtension(builder);
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

    public EmbeddedMariaDb server() {
        if (server == null) {
            throw new IllegalStateException("the MariaDB of this test class is not running; register the extension "
                    + "on a static field");
        }
        return server;
    }
}
