package dev.tandem.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.MigrationRunner;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import dev.tandem.core.verify.VerifyRunner;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingDataSource;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.api.Tokens;
import dev.tandem.server.demo.DemoManifest;
import dev.tandem.server.demo.DemoShop;
import dev.tandem.server.demo.DemoWorkload;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tandem demo}: the project's main job on an embedded default. Starts a PostgreSQL source and target on this
 * machine, fills the source with a small shop, writes the manifest it uses, plans the migration exactly as
 * {@code tandem plan} would, and migrates it under live traffic that goes through the routing DataSource, following a
 * control plane started in this process: copy, streaming, verification, canary steps, the cutover, then cleanup or
 * rollback. Says honestly what is done and what is to come.
 */
@Command(name = "demo",
        header = "Run Tandem end to end on embedded PostgreSQL databases, nothing to install.",
        mixinStandardHelpOptions = true,
        description = {
                "Runs Tandem end to end on this machine, nothing to install: starts an embedded PostgreSQL 17 source "
                        + "and target, creates a small shop on the source (five tables, ~22,000 rows at scale 1), "
                        + "writes the manifest to DIR/manifest.yaml, plans the migration, then migrates it with "
                        + "progress, tracked in a control store in DIR/store, while the shop's traffic goes through "
                        + "the routing DataSource: copy, streaming, verification, canary reads 5% -> 25% -> 75%, the "
                        + "cutover (its write pause printed), then the cleanup (or, with --rollback, the rollback). "
                        + "The databases stop when the demo ends."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".tandem/demo",
            description = "Where the demo writes its manifest and control store (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--rollback",
            description = "After the cutover, roll back to the source (with the shop writing) instead of the "
                    + "cleanup.")
    boolean rollback;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "1",
            description = "Multiplies the sample data (1 is about 22,000 rows; default: ${DEFAULT-VALUE}).")
    int scale;

    private final Map<String, String> env;

    DemoCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws IOException {
        if (scale < 1 || scale > 10_000) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--scale " + scale
                    + " is out of range; use 1 to 10000");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("Tandem demo: moving a shop database from one PostgreSQL to another, on this machine.");
        out.println();
        String sourcePassword = "src-" + UUID.randomUUID();
        String targetPassword = "dst-" + UUID.randomUUID();
        try (EmbeddedPostgres source = step(out, "Starting the source PostgreSQL",
                () -> EmbeddedPostgres.builder().database(DemoShop.DATABASE).start(), pg -> "port " + pg.port());
             EmbeddedPostgres target = step(out, "Starting the target PostgreSQL",
                     () -> EmbeddedPostgres.builder().database(DemoShop.DATABASE).start(), pg -> "port " + pg.port())) {
            step(out, "Creating the shop on the source", () -> {
                DemoShop.populateSource(source, scale, sourcePassword);
                return DemoShop.rowCounts(source);
            }, counts -> String.format(Locale.ROOT, "%,d rows in %d tables",
                    counts.values().stream().mapToLong(Long::longValue).sum(), counts.size()));
            step(out, "Creating the migration user on the target", () -> {
                DemoShop.prepareTarget(target, targetPassword);
                return DemoShop.MIGRATOR;
            }, user -> "user " + user + ", least privilege");

            Files.createDirectories(dir);
            Path manifestFile = dir.resolve("manifest.yaml");
            Files.writeString(manifestFile, DemoManifest.yaml(source.jdbcUrl(), target.jdbcUrl(), "manual"));
            out.println("Wrote the manifest to " + manifestFile);
            out.println();

            Map<String, String> demoEnv = new HashMap<>(env);
            demoEnv.put(DemoManifest.SOURCE_PASSWORD_ENV, sourcePassword);
            demoEnv.put(DemoManifest.TARGET_PASSWORD_ENV, targetPassword);
            out.println("---- tandem plan -f " + manifestFile + " ----");
            int planExit = PlanCommand.run(manifestFile, demoEnv, false, out);
            out.println("---- end of plan ----");
            out.println();
            if (planExit != 0) {
                out.println("The plan found problems (exit " + planExit + "); the demo stops here.");
                return planExit;
            }

            Path storeDir = dir.resolve("store");
            deleteStore(storeDir);
            demoEnv.put("TANDEM_ADMIN_TOKEN", "demo-admin-" + UUID.randomUUID());
            demoEnv.put("TANDEM_READ_TOKEN", "demo-read-" + UUID.randomUUID());
            int exit;
            try (ControlStore store = ControlStore.open(storeDir.toString(), demoEnv::get);
                 ApiServer server = new ApiServer(store, demoEnv, Tokens.load(null, demoEnv), false)
                         .start("127.0.0.1", 0);
                 HikariDataSource sourcePool = appPool(source);
                 HikariDataSource targetPool = appPool(target);
                 RoutingClient routing = new RoutingClient(URI.create("http://127.0.0.1:" + server.port()),
                         DemoManifest.ID, demoEnv.get("TANDEM_READ_TOKEN"), "shop-app-1", null);
                 RoutingDataSource router = RoutingDataSource.following(sourcePool, targetPool, routing)) {
                String url = "http://127.0.0.1:" + server.port();
                out.println("The control plane (tandem server) runs in this process at " + url + ". The shop's "
                        + "application");
                out.println("connects through tandem-router's RoutingDataSource over its two pools, which follows the "
                        + "migration's");
                out.println("routing state; it sends about 100 transactions/s (half lookups, half writes) during the "
                        + "whole migration.");
                DemoWorkload workload = new DemoWorkload(router, scale, 100).start();
                try {
                    exit = migrateAndCutOver(store, new Remote.Client(url, demoEnv.get("TANDEM_ADMIN_TOKEN")), routing,
                            router, workload, source, target, manifestFile, storeDir, demoEnv, url, out);
                } finally {
                    workload.stop();
                }
            }
            if (exit != 0) {
                return exit;
            }
            out.println("See it again with: tandem status --store " + storeDir + " " + DemoManifest.ID
                    + "   and: tandem runs --store " + storeDir + " " + DemoManifest.ID);
            out.println();
            whatIsNext(out);
            return 0;
        }
    }

    /**
     * Run 1 copies and streams, verifies while the shop writes, and is stopped; run 2 resumes the stream, and the
     * router part (see {@link #routerSteps}) ends it with a cleanup or a rollback. Then the tables are compared.
     */
    private int migrateAndCutOver(ControlStore store, Remote.Client api, RoutingClient routing,
                                  RoutingDataSource router, DemoWorkload workload, EmbeddedPostgres source,
                                  EmbeddedPostgres target, Path manifestFile, Path storeDir,
                                  Map<String, String> demoEnv, String url, PrintWriter out) throws IOException {
        out.println("---- tandem migrate -f " + manifestFile + " --store " + storeDir + " ----");
        Thread director = director(store, routing, out, read(manifestFile, demoEnv).manifest());
        MigrationOutcome outcome = MigrateCommand.execute(store, read(manifestFile, demoEnv),
                new MigrationRunner.Options(null, null, null, "demo"), out, System.console() != null);
        director.interrupt();
        MigrateCommand.print(out, outcome);
        out.println("---- end of migrate ----");
        out.println();
        if (outcome.exitCode() != 0 || workload.failure() != null) {
            return stopped(out, outcome, workload);
        }
        out.printf(Locale.ROOT, "The shop made %,d transactions so far, all on the source.%n", workload.transactions());
        out.println("Run the same manifest again: the stream resumes from its confirmed position. Meanwhile, as an "
                + "operator would");
        out.println("through the REST API or the CLI with --server " + url + ": canary reads 5% -> 25% -> 75% of "
                + "customers,");
        out.println("the cutover with the shop writing, and " + (rollback ? "a rollback." : "the cleanup."));
        out.println("---- tandem migrate -f " + manifestFile + " --store " + storeDir + " ----");
        AtomicReference<String> routerFailure = new AtomicReference<>();
        Thread steps = new Thread(() -> {
            try {
                routerSteps(store, api, router, workload, source, target, url, out);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | SQLException e) {
                routerFailure.set(e.getMessage());
                out.println("  (demo: " + e.getMessage() + "; stopping the migration)");
                out.flush();
                store.requests().request(DemoManifest.ID, Requests.Kind.STOP, "demo");
            }
        }, "demo-router-steps");
        steps.setDaemon(true);
        steps.start();
        outcome = MigrateCommand.execute(store, read(manifestFile, demoEnv),
                new MigrationRunner.Options(null, null, null, "demo"), out, System.console() != null);
        try {
            steps.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        steps.interrupt();
        workload.stop();
        MigrateCommand.print(out, outcome);
        out.println("---- end of migrate ----");
        out.println();
        if (outcome.exitCode() != 0 || workload.failure() != null || routerFailure.get() != null) {
            return stopped(out, outcome, workload);
        }
        out.printf(Locale.ROOT, "The shop made %,d transactions in all (%,d lookups, %,d writes); %,d writes waited "
                        + "longer than the freeze timeout.%n", workload.transactions(), workload.reads(),
                workload.writes(), workload.freezeTimeouts());
        try (Connection s = source.connect(); Connection t = target.connect()) {
            if (rollback) {
                // the source took writes after the rollback; the target's new orders must all be on it
                long newest = newestOrder(t);
                for (String[] table : new String[][] {{"public.orders", "id", "id"},
                        {"public.order_items", "order_id, line_no", "order_id"}}) {
                    TableComparison.Result r = TableComparison.compare(s, t, table[0], table[1], table[2] + " BETWEEN "
                            + DemoWorkload.NEW_ORDERS + " AND " + newest);
                    out.printf(Locale.ROOT, "  %-20s %,8d new rows on the target, %s%n", table[0], r.targetRows(),
                            r.equal() ? "all on the source, equal row for row" : r.differing() + " rows differ or are "
                                    + "missing on the source: that is a bug in Tandem; please report it");
                    if (!r.equal()) {
                        return 1;
                    }
                }
                return 0;
            }
            for (Map.Entry<String, String> e : DemoShop.KEYS.entrySet()) {
                TableComparison.Result r = TableComparison.compare(s, t, e.getKey(), e.getValue(), null);
                out.printf(Locale.ROOT, "  %-20s %,8d rows on the source, %,8d on the target, %s%n", e.getKey(),
                        r.sourceRows(), r.targetRows(), r.equal() ? "equal row for row" : r.differing()
                                + " rows differ: that is a bug in Tandem; please report it");
                if (!r.equal()) {
                    return 1;
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot compare the demo's tables: " + e.getMessage(), e);
        }
        return 0;
    }

    private static int stopped(PrintWriter out, MigrationOutcome outcome, DemoWorkload workload) {
        out.println("The migration did not finish (exit " + outcome.exitCode() + (workload.failure() == null ? ""
                : "; shop traffic failed: " + workload.failure().getMessage()) + "); the demo stops here.");
        return outcome.exitCode() != 0 ? outcome.exitCode() : 1;
    }

    private static long newestOrder(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM "
                + "orders")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * What an operator does while run 2 streams: canary steps (PATCH the strategy; the router's counters show where
     * the lookups went), the cutover with the shop writing (its report: each step and the write pause), a few
     * seconds of traffic on the target, then either the rollback (with the shop writing) or — traffic stopped, the
     * reverse stream caught up — the cleanup, which ends run 2.
     */
    private void routerSteps(ControlStore store, Remote.Client api, RoutingDataSource router, DemoWorkload workload,
                             EmbeddedPostgres source, EmbeddedPostgres target, String url, PrintWriter out)
            throws InterruptedException, SQLException {
        while (store.migrations().find(DemoManifest.ID).map(r -> r.status().state() != MigrationState.RUNNING
                || r.status().phase() != Phase.CATCH_UP).orElse(true)) {
            Thread.sleep(100);
        }
        Thread.sleep(1000);
        String one = "/api/v1/migrations/" + DemoManifest.ID;
        for (int percent : new int[] {5, 25, 75}) {
            ObjectNode patch = Json.MAPPER.createObjectNode();
            patch.putObject("strategy").put("type", "canary").put("read_percentage", percent / 100.0)
                    .putObject("write_mode").put("mode", "dual_write").put("policy", "old_authoritative");
            api.patch(one, patch);
            long onSource = router.stats().readsSource();
            long onTarget = router.stats().readsTarget();
            long writes = router.stats().writesSource();
            Thread.sleep(2500);
            onSource = router.stats().readsSource() - onSource;
            onTarget = router.stats().readsTarget() - onTarget;
            say(out, String.format(Locale.ROOT, "canary %d%% (PATCH strategy.read_percentage %.2f): lookups %d on "
                            + "the source, %d on the target (%.0f%%); %d writes, all on the source", percent,
                    percent / 100.0, onSource, onTarget, 100.0 * onTarget / Math.max(1, onSource + onTarget),
                    router.stats().writesSource() - writes));
        }
        procedure(api, "cutover", url, out);
        long onTarget = router.stats().writesTarget();
        Thread.sleep(3000);
        say(out, (router.stats().writesTarget() - onTarget) + " writes on the target in 3 s; the reverse stream "
                + "copies them to the source");
        if (rollback) {
            procedure(api, "rollback", url, out);
            long onSource = router.stats().writesSource();
            Thread.sleep(2000);
            say(out, (router.stats().writesSource() - onSource) + " writes on the source again in 2 s");
            workload.stop();
            return;
        }
        workload.stop();
        say(out, "the shop's traffic stops; waiting for the reverse stream to bring the source level ...");
        awaitEqual(source, target);
        say(out, "source and target are equal: a rollback now would lose nothing");
        say(out, "tandem cleanup " + DemoManifest.ID + " --server " + url + "   (ends rollback's option: drops the "
                + "reverse stream, archives the audit)");
        api.post(one + "/cleanup", null);
    }

    /** {@code tandem cutover|rollback} through the REST API, with the shop writing; prints its report. */
    private static void procedure(Remote.Client api, String name, String url, PrintWriter out) {
        say(out, "tandem " + name + " " + DemoManifest.ID + " --server " + url + "   (the shop keeps writing)");
        JsonNode report = api.post("/api/v1/migrations/" + DemoManifest.ID + "/" + name, null).path("report");
        say(out, name + ": " + steps(report));
        say(out, name + ": " + pause(report));
    }

    private static void awaitEqual(EmbeddedPostgres source, EmbeddedPostgres target) throws InterruptedException,
            SQLException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (Connection s = source.connect(); Connection t = target.connect()) {
            while (true) {
                boolean equal = true;
                for (Map.Entry<String, String> e : DemoShop.KEYS.entrySet()) {
                    equal &= TableComparison.compare(s, t, e.getKey(), e.getValue(), null).equal();
                }
                if (equal) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the source did not catch up with the target within 60 s");
                }
                Thread.sleep(250);
            }
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

    private static void say(PrintWriter out, String line) {
        out.println("  (demo: " + line + ")");
        out.flush();
    }

    /** The shop application's own pool on one database (as its superuser: it owns its data). */
    private static HikariDataSource appPool(EmbeddedPostgres db) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(db.jdbcUrl());
        c.setUsername(EmbeddedPostgres.SUPERUSER);
        c.setPassword(db.superuserPassword());
        c.setMaximumPoolSize(4);
        c.setPoolName("shop-" + db.port());
        return new HikariDataSource(c);
    }

    private static ManifestDocument read(Path manifestFile, Map<String, String> env) {
        return new ManifestReader(env::get).document(manifestFile, ManifestReader.Purpose.RUN);
    }

    /**
     * Run 1's operator: once the migration is registered, the application's router starts following its routing
     * state (before, it has the router's default: everything on the source); three seconds into catch-up (changes
     * made after the copy, streamed live) runs {@code tandem verify} while the shop still writes (lag-aware:
     * in-flight changes are not drift), then asks the migration to stop, as {@code tandem stop} would.
     */
    private static Thread director(ControlStore store, RoutingClient routing, PrintWriter out, Manifest manifest) {
        Thread t = new Thread(() -> {
            try {
                while (store.migrations().find(DemoManifest.ID).isEmpty()) {
                    Thread.sleep(50);
                }
                routing.start();
                while (store.migrations().find(DemoManifest.ID).map(r -> r.status().phase() != Phase.CATCH_UP)
                        .orElse(true)) {
                    Thread.sleep(100);
                }
                Thread.sleep(3000);
                out.println("  (demo: tandem verify -f MANIFEST while the shop keeps writing and the stream applies)");
                out.flush();
                try {
                    VerifyRunner.Report r = new VerifyRunner(store, ConnectorRegistry.load(), line -> {
                        out.println("  verify: " + line);
                        out.flush();
                    }).verify(manifest, new VerifyRunner.Options(null, false));
                    long rows = r.tables().stream().mapToLong(VerifyRunner.TableReport::processed).sum();
                    out.printf(Locale.ROOT, "  verify: run %d compared %,d rows in %.1f s: %s%n", r.runId(), rows,
                            r.seconds(), r.differing() == 0 ? "no drift (" + r.inFlight() + " rows were changes in "
                                    + "flight, rechecked)" : r.differing() + " rows differ");
                } catch (RuntimeException e) {
                    out.println("  verify failed: " + e.getMessage());
                }
                out.println("  (demo: asking the migration to stop, as tandem stop " + DemoManifest.ID + " would; "
                        + "the shop keeps writing)");
                out.flush();
                store.requests().request(DemoManifest.ID, Requests.Kind.STOP, "demo");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "demo-director");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void deleteStore(Path storeDir) throws IOException {
        if (!Files.exists(storeDir)) {
            return;
        }
        try (var files = Files.walk(storeDir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static void whatIsNext(PrintWriter out) {
        out.println("Done: manifest validation, preflight on both databases, schema creation, the chunked,");
        out.println("tracked, resumable copy, change data capture (applied live during and after the copy; stop and");
        out.println("resume from the confirmed position), verification (tandem verify, lag-aware, and continuous");
        out.println("verification of every applied row), the REST control plane, and the routing DataSource the");
        out.println("shop's traffic went through: canary steps, the cutover with its write pause, the reverse stream,");
        out.println("and the cleanup (run the demo with --rollback to see the rollback instead).");
        out.println("Still to come in Tandem (not done by this demo yet):");
        out.println("  - dashboard");
        out.println();
        out.println("The databases stop now. Run the demo again any time: ./tandem demo");
    }

    private <T> T step(PrintWriter out, String what, Supplier<T> work, java.util.function.Function<T, String> done) {
        out.print(what + " ... ");
        out.flush();
        long t0 = System.nanoTime();
        T result;
        try {
            result = work.get();
        } catch (UncheckedIOException | IllegalStateException e) {
            out.println("failed");
            throw e;
        }
        out.printf(Locale.ROOT, "done (%s, %.1f s)%n", done.apply(result), (System.nanoTime() - t0) / 1e9);
        return result;
    }
}
