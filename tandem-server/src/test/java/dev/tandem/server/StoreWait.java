package dev.tandem.server;

import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ControlStore;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Waiting, from a test, on a migration that a concurrently running CLI call drives. */
final class StoreWait {
    private StoreWait() {
    }

    /** Opens the store once the migration {@code id} is registered in it (up to 60 s). */
    static ControlStore registered(String store, Map<String, String> env, String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                ControlStore cs = ControlStore.openExisting(store, env::get);
                if (cs.migrations().find(id).isPresent()) {
                    return cs;
                }
                cs.close();
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(id + " was not registered in " + store + " within 60 s");
                }
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            Thread.sleep(100);
        }
    }

    /** Waits (up to 3 minutes) until the migration reaches catch-up; fails if {@code migrate} ends first. */
    static void catchUp(String store, Map<String, String> env, String id, CompletableFuture<CliRun> migrate)
            throws InterruptedException {
        try (ControlStore cs = registered(store, env, id)) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (cs.migrations().find(id).map(r -> r.status().phase() != Phase.CATCH_UP).orElse(true)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(id + " did not reach catch_up within 3 minutes");
                }
                if (migrate.isDone()) {
                    throw new AssertionError("migrate ended before catch_up: " + migrate.join().all());
                }
                Thread.sleep(100);
            }
        }
    }
}
