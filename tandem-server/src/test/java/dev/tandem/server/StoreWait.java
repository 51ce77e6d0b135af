package dev.tandem.server;

import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Waiting, from a test, on a migration that a concurrently running CLI call drives. */
final class StoreWait {
    private StoreWait() {
    }

    /**
     * Waits (up to 120 s) until the child process {@code p} (logging to {@code log}) has migration {@code id} in
     * {@code phase}, and when {@code streaming} also a confirmed stream position: the moment to kill it. Reads the
     * store through read-only copies, so the child keeps it; fails if the child ends first.
     */
    static void phase(Process p, java.nio.file.Path log, String store, String id, Phase phase, boolean streaming)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("the migrating process ended before " + phase + ":\n"
                        + java.nio.file.Files.readString(log));
            }
            if (java.nio.file.Files.exists(java.nio.file.Path.of(store, "store.mv.db"))) {
                try (ControlStore cs = ControlStore.openReader(store, Map.<String, String>of()::get)) {
                    boolean there = cs.migrations().find(id).map(m -> m.status().phase() == phase).orElse(false)
                            && (!streaming || cs.positions().find(id, dev.tandem.core.store.StreamDirection.FORWARD)
                            .map(pos -> pos.offsets() != null).orElse(false));
                    if (there) {
                        return;
                    }
                } catch (dev.tandem.core.error.TandemException notYet) {
                    // the child is still making the store
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("migration " + id + " did not reach " + phase + " within 120 s:\n"
                + java.nio.file.Files.readString(log));
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

    /** The verify run of the continuous verification, once it exists. */
    static long continuousRun(ControlStore cs, String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Optional<RunRecord> r = cs.runs().list(id).stream().filter(x -> x.kind() == RunRecord.Kind.VERIFY)
                    .findFirst();
            if (r.isPresent()) {
                return r.get().runId();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no continuous verification run within 60 s");
    }

    /**
     * Waits (up to 2 minutes) until {@code count} drifting rows of the verify run {@code run} are repaired, failing if
     * {@code migrate} ends first; returns them as "key kind" (e.g. {@code ["42"] mismatch}).
     */
    static java.util.Set<String> repairedDrift(ControlStore cs, long run, int count, CompletableFuture<CliRun> migrate)
            throws InterruptedException {
        return drift(cs, run, count, migrate, true);
    }

    /** As {@link #repairedDrift}, counting every drifting row stored, repaired or not. */
    static java.util.Set<String> drift(ControlStore cs, long run, int count, CompletableFuture<CliRun> migrate,
                                       boolean repairedOnly) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        java.util.Set<String> found = new java.util.TreeSet<>();
        while (found.size() < count && System.nanoTime() < deadline) {
            found.clear();
            cs.drift().list(run).stream().filter(d -> !repairedOnly || d.repairedAt() != null)
                    .forEach(d -> found.add(d.keyValues() + " " + d.kind().wire()));
            if (migrate.isDone()) {
                throw new AssertionError("migrate ended: " + migrate.join().all());
            }
            Thread.sleep(100);
        }
        return found;
    }
}
