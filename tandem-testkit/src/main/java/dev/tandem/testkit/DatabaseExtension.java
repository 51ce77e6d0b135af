package dev.tandem.testkit;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One real database per test class, started before its first test and stopped after its last:
 * {@code @RegisterExtension static final DatabaseExtension<EmbeddedPostgres> PG = DatabaseExtension.postgres();}
 */
public final class DatabaseExtension<T extends AutoCloseable> implements BeforeAllCallback, AfterAllCallback {
    private final Supplier<T> starter;
    private final String what;
    private T server;

    private DatabaseExtension(String what, Supplier<T> starter) {
        this.what = what;
        this.starter = starter;
    }

    /** PostgreSQL with the testkit's defaults (wal_level=logical). */
    public static DatabaseExtension<EmbeddedPostgres> postgres() {
        return postgres(EmbeddedPostgres.builder());
    }

    public static DatabaseExtension<EmbeddedPostgres> postgres(EmbeddedPostgres.Builder builder) {
        return new DatabaseExtension<>("PostgreSQL", builder::start);
    }

    /** MariaDB with the testkit's defaults (binary log on, ROW, FULL). */
    public static DatabaseExtension<EmbeddedMariaDb> mariaDb() {
        return mariaDb(EmbeddedMariaDb.builder());
    }

    public static DatabaseExtension<EmbeddedMariaDb> mariaDb(EmbeddedMariaDb.Builder builder) {
        return new DatabaseExtension<>("MariaDB", builder::start);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        server = starter.get();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    public T server() {
        if (server == null) {
            throw new IllegalStateException("the " + what + " of this test class is not running; register the "
                    + "extension on a static field");
        }
        return server;
    }
}
