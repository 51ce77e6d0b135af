package dev.tandem.server;

import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.sql.Connection;
import java.time.Duration;

/** Waits for a stream to bring the target to the source's rows, then asserts they are equal row for row. */
final class Converge {
    private Converge() {
    }

    /** Opens a connection to the side compared against the source (a database other than the default). */
    @FunctionalInterface
    interface Opener {
        Connection open() throws java.sql.SQLException;
    }

    static void tables(EmbeddedPostgres source, EmbeddedPostgres target, String table, String orderBy)
            throws Exception {
        tables(source, target::connect, table, orderBy);
    }

    /** Up to 60 s for the target {@code opener} reaches to hold the source's rows of {@code table}, then equal. */
    static void tables(EmbeddedPostgres source, Opener target, String table, String orderBy) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Connection s = source.connect(); Connection t = target.open()) {
                if (TableComparison.compare(s, t, table, orderBy, null).equal() || System.nanoTime() > deadline) {
                    TableComparison.assertEqual(s, t, table, orderBy);
                    return;
                }
            }
            Thread.sleep(500);
        }
    }
}
