package dev.tandem.server.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import dev.tandem.core.verify.VerifyReport;
import dev.tandem.core.verify.VerifyRunner;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingDataSource;
import dev.tandem.server.wire.ApiClient;
import dev.tandem.server.wire.Json;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.Locale;

/**
 * What an operator does during the demo, through the store, the REST API and the router's counters: in run 1
 * {@code tandem verify} while the shop writes, then {@code tandem stop}; in run 2 canary steps, the cutover with the
 * shop writing, a few seconds on the target, then a rollback or — traffic stopped, source and target level — the
 * cleanup.
 */
final class DemoOperator {
    private final ControlStore store;
    private final ApiClient api;
    private final String url;
    private final PrintWriter out;

    DemoOperator(ControlStore store, ApiClient api, PrintWriter out) {
        this.store = store;
        this.api = api;
        this.url = api.base();
        this.out = out;
    }

    /**
     * Run 1's operator, on its own thread: once the migration is registered the application's router starts following
     * its routing state (before, it has the router's default: everything on the source); three seconds into catch-up
     * (changes made after the copy, streamed live) runs {@code tandem verify} while the shop still writes (lag-aware:
     * in-flight changes are not drift), then asks the migration to stop, as {@code tandem stop} would.
     */
    Thread firstRun(RoutingClient routing, Manifest manifest) {
        Thread t = new Thread(() -> {
            try {
                while (store.migrations().find(DemoManifest.ID).isEmpty()) {
                    Thread.sleep(50);
                }
                routing.start();
                awaitPhase(Phase.CATCH_UP);
                Thread.sleep(3000);
                verify(manifest);
                say("asking the migration to stop, as tandem stop " + DemoManifest.ID + " would; the shop keeps "
                        + "writing");
                store.requests().request(DemoManifest.ID, Requests.Kind.STOP, "demo");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-director");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void verify(Manifest manifest) {
        say("tandem verify -f MANIFEST while the shop keeps writing and the stream applies");
        try {
            VerifyReport r = new VerifyRunner(store, ConnectorRegistry.load(), line -> {
                out.println("  verify: " + line);
                out.flush();
            }).verify(manifest, new VerifyRunner.Options(null, false));
            long rows = r.tables().stream().mapToLong(VerifyReport.TableReport::processed).sum();
            out.printf(Locale.ROOT, "  verify: run %d compared %,d rows in %.1f s: %s%n", r.runId(), rows,
                    r.seconds(), r.differing() == 0 ? "no drift (" + r.inFlight() + " rows were changes in flight, "
                            + "rechecked)" : r.differing() + " rows differ");
        } catch (RuntimeException e) {
            out.println("  verify failed: " + e.getMessage());
        }
    }

    /**
     * Run 2's operator, while the migration streams again: canary steps (PATCH the strategy; the router's counters
     * show where the lookups went), the cutover with the shop writing (its report: each step and the write pause), a
     * few seconds of traffic on the target, then either the rollback (with the shop writing) or — traffic stopped,
     * the reverse stream caught up — the cleanup, which ends run 2.
     */
    void secondRun(RoutingDataSource router, DemoWorkload workload, Level level, boolean rollback)
            throws InterruptedException, SQLException {
        while (store.migrations().find(DemoManifest.ID).map(r -> r.status().state() != MigrationState.RUNNING
                || r.status().phase() != Phase.CATCH_UP).orElse(true)) {
            Thread.sleep(100);
        }
        Thread.sleep(1000);
        for (int percent : new int[] {5, 25, 75}) {
            canary(router, percent);
        }
        procedure("cutover");
        long onTarget = router.stats().writesTarget();
        Thread.sleep(3000);
        say((router.stats().writesTarget() - onTarget) + " writes on the target in 3 s; the reverse stream copies "
                + "them to the source");
        if (rollback) {
            procedure("rollback");
            long onSource = router.stats().writesSource();
            Thread.sleep(2000);
            say((router.stats().writesSource() - onSource) + " writes on the source again in 2 s");
            workload.stop();
            return;
        }
        workload.stop();
        say("the shop's traffic stops; waiting for the reverse stream to bring the source level ...");
        awaitEqual(level);
        say("source and target are equal: a rollback now would lose nothing");
        say("tandem cleanup " + DemoManifest.ID + " --server " + url + "   (ends rollback's option: drops the "
                + "reverse stream, archives the audit)");
        api.post(path() + "/cleanup", null);
    }

    private void canary(RoutingDataSource router, int percent) throws InterruptedException {
        ObjectNode patch = Json.MAPPER.createObjectNode();
        patch.putObject("strategy").put("type", "canary").put("read_percentage", percent / 100.0)
                .putObject("write_mode").put("mode", "dual_write").put("policy", "old_authoritative");
        api.patch(path(), patch);
        long onSource = router.stats().readsSource();
        long onTarget = router.stats().readsTarget();
        long writes = router.stats().writesSource();
        Thread.sleep(2500);
        onSource = router.stats().readsSource() - onSource;
        onTarget = router.stats().readsTarget() - onTarget;
        say(String.format(Locale.ROOT, "canary %d%% (PATCH strategy.read_percentage %.2f): lookups %d on the source, "
                        + "%d on the target (%.0f%%); %d writes, all on the source", percent, percent / 100.0,
                onSource, onTarget, 100.0 * onTarget / Math.max(1, onSource + onTarget),
                router.stats().writesSource() - writes));
    }

    /** {@code tandem cutover|rollback} through the REST API, with the shop writing; prints its report. */
    private void procedure(String name) {
        say("tandem " + name + " " + DemoManifest.ID + " --server " + url + "   (the shop keeps writing)");
        JsonNode report = api.post(path() + "/" + name, null).path("report");
        say(name + ": " + steps(report));
        say(name + ": " + pause(report));
    }

    private static String path() {
        return "/api/v1/migrations/" + DemoManifest.ID;
    }

    private void awaitPhase(Phase phase) throws InterruptedException {
        while (store.migrations().find(DemoManifest.ID).map(r -> r.status().phase() != phase).orElse(true)) {
            Thread.sleep(100);
        }
    }

    /** Whether source and target hold the same rows now. */
    interface Level {
        boolean equal() throws SQLException;
    }

    private static void awaitEqual(Level level) throws InterruptedException, SQLException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!level.equal()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the source did not catch up with the target within 60 s");
            }
            Thread.sleep(250);
        }
    }

    private static String steps(JsonNode report) {
        StringBuilder b = new StringBuilder();
        for (JsonNode step : report.path("steps")) {
            if (step.path("step").asText().equals("write_pause")) {
                continue;
            }
            b.append(b.length() == 0 ? "" : ", ").append(step.path("step").asText()).append(' ')
                    .append(Math.round(step.path("ms").asDouble())).append(" ms");
        }
        return b.toString();
    }

    private static String pause(JsonNode report) {
        JsonNode p = report.path("write_pause");
        return String.format(Locale.ROOT, "writes frozen %.0f ms; write pause over %d blocked transactions: p50 "
                        + "%.0f ms, p99 %.0f ms, max %.0f ms; %d over the freeze timeout",
                report.path("freeze_ms").asDouble(), p.path("blocked_transactions").asLong(),
                p.path("p50_ms").asDouble(), p.path("p99_ms").asDouble(), p.path("max_ms").asDouble(),
                p.path("timeouts").asLong());
    }

    void say(String line) {
        out.println("  (demo: " + line + ")");
        out.flush();
    }
}
