package dev.tandem.server.cli;

import dev.tandem.core.engine.MigrationOutcome;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.engine.MigrationRunner;
import dev.tandem.core.engine.VerifyRunner;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import dev.tandem.server.demo.DemoManifest;
import dev.tandem.server.demo.DemoShop;
import dev.tandem.server.demo.DemoWorkload;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code tandem demo}: the project's main job on an embedded default. Starts a PostgreSQL source and target on this
 * machine, fills the source with a small shop, writes the manifest it uses, plans the migration exactly as
 * {@code tandem plan} would, registers it in a control store, and says honestly what is done and what is to come.
 */
@Command(name = "demo",
        header = "Run Tandem end to end on embedded PostgreSQL databases, nothing to install.",
        mixinStandardHelpOptions = true,
        description = {
                "Runs Tandem end to end on this machine, nothing to install: starts an embedded PostgreSQL 17 source "
                        + "and target, creates a small shop on the source (five tables, ~22,000 rows at scale 1), "
                        + "writes the manifest to DIR/manifest.yaml, plans the migration, then migrates it with "
                        + "progress, tracked in a control store in DIR/store. The databases stop when the demo ends."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".tandem/demo",
            description = "Where the demo writes its manifest and control store (default: ${DEFAULT-VALUE}).")
    Path dir;

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
            DemoWorkload workload = new DemoWorkload(source, scale, 100);
            Thread traffic = new Thread(workload, "demo-traffic");
            traffic.setDaemon(true);
            traffic.start();
            out.println("The shop keeps taking orders on the source (about 100 transactions/s) during the whole "
                    + "migration.");
            out.println("---- tandem migrate -f " + manifestFile + " --store " + storeDir + " ----");
            MigrationOutcome outcome;
            try (ControlStore store = ControlStore.open(storeDir.toString(), demoEnv::get)) {
                Thread director = director(store, workload, traffic, out, read(manifestFile, demoEnv).manifest());
                outcome = MigrateCommand.execute(store, read(manifestFile, demoEnv),
                        new MigrationRunner.Options(null, null, null, "demo"), out, System.console() != null);
                director.interrupt();
                workload.stop();
                MigrateCommand.print(out, outcome);
                out.println("---- end of migrate ----");
                out.println();
                if (outcome.exitCode() != 0 || workload.failure() != null) {
                    out.println("The migration did not finish (exit " + outcome.exitCode() + (workload.failure() == null
                            ? "" : "; shop traffic failed: " + workload.failure().getMessage()) + "); the demo stops "
                            + "here.");
                    return outcome.exitCode() != 0 ? outcome.exitCode() : 1;
                }
                out.printf(Locale.ROOT, "The shop made %,d transactions on the source while Tandem copied and "
                        + "streamed.%n", workload.transactions());
                out.println("Now the same manifest with continuous.stop_when: in_sync: the stream resumes from its "
                        + "confirmed position and finishes once the target holds every committed change.");
                Files.writeString(manifestFile, DemoManifest.yaml(source.jdbcUrl(), target.jdbcUrl(), "in_sync"));
                out.println("---- tandem migrate -f " + manifestFile + " --store " + storeDir + " ----");
                outcome = MigrateCommand.execute(store, read(manifestFile, demoEnv),
                        new MigrationRunner.Options(null, null, null, "demo"), out, System.console() != null);
                MigrateCommand.print(out, outcome);
                out.println("---- end of migrate ----");
                out.println();
            }
            if (outcome.exitCode() != 0) {
                out.println("The migration did not finish (exit " + outcome.exitCode() + "); the demo stops here.");
                return outcome.exitCode();
            }
            try (Connection s = source.connect(); Connection t = target.connect()) {
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
            out.println("See it again with: tandem status --store " + storeDir + " " + DemoManifest.ID
                    + "   and: tandem runs --store " + storeDir + " " + DemoManifest.ID);
            out.println();
            whatIsNext(out);
            return 0;
        }
    }

    private static ManifestDocument read(Path manifestFile, Map<String, String> env) {
        return new ManifestReader(env::get).document(manifestFile, ManifestReader.Purpose.RUN);
    }

    /**
     * Lets the traffic run three seconds into catch-up (changes made after the copy, streamed live), runs
     * {@code tandem verify} while the shop still writes (lag-aware: in-flight changes are not drift), then stops the
     * traffic and asks the migration to stop, as {@code tandem stop} would.
     */
    private static Thread director(ControlStore store, DemoWorkload workload, Thread traffic, PrintWriter out,
                                   Manifest manifest) {
        Thread t = new Thread(() -> {
            try {
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
                out.flush();
                workload.stop();
                traffic.join();
                out.println("  (demo: the shop's traffic stops now; asking the migration to stop, as tandem stop "
                        + DemoManifest.ID + " would)");
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
        out.println("tracked, resumable copy, and change data capture (logical replication applied live during and");
        out.println("after the copy; tandem lag, tandem stop, resume from the confirmed position), and");
        out.println("verification: tandem verify (chunk checksums, row diffs, repair, lag-aware while streaming) and");
        out.println("continuous verification of every applied row during catch-up, with abort thresholds.");
        out.println("Also built, not shown here: the REST control plane (tandem server: auth, phase gates, alerts,");
        out.println("Prometheus metrics, events; every CLI verb with --server), the routing DataSource (tandem-router:");
        out.println("strategies, shadow reads, write gate) and tandem cutover / rollback / cleanup.");
        out.println("Still to come in Tandem (not done by this demo yet):");
        out.println("  - dashboard");
        out.println("  - this demo's workload through the router: canary 5% -> 25% -> 75% -> cutover -> rollback");
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
