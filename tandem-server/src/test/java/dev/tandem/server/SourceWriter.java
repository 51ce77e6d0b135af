package dev.tandem.server;

import dev.tandem.testkit.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** A concurrent writer for tests: repeats {@link #step} on its own connection until stopped; keeps its failure. */
abstract class SourceWriter implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicLong ops = new AtomicLong();
    final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final EmbeddedPostgres server;
    private final long seed;
    private Thread thread;

    SourceWriter(EmbeddedPostgres server, long seed) {
        this.server = server;
        this.seed = seed;
    }

    /** One write (or transaction); {@code n} counts from 1. */
    abstract void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException;

    @Override
    public void run() {
        Random r = new Random(seed);
        try (Connection c = server.connect(); Statement st = c.createStatement()) {
            while (!stop.get()) {
                step(c, st, r, ops.incrementAndGet());
            }
        } catch (SQLException | InterruptedException | RuntimeException e) {
            failure.set(e);
        }
    }

    SourceWriter start() {
        thread = new Thread(this, "source-writer-" + seed);
        thread.start();
        return this;
    }

    /** Stops the writer, waits for it, and returns its failure (null when none). */
    Throwable stopAndJoin() throws InterruptedException {
        stop.set(true);
        if (thread != null) {
            thread.join();
        }
        return failure.get();
    }
}
