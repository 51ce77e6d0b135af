package dev.tandem.server.demo;

import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.Requests;
import dev.tandem.router.RoutingClient;
import dev.tandem.router.RoutingDataSource;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.api.Tokens;
import dev.tandem.server.wire.ApiClient;
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
import java.util.Comparator;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * {@code tandem demo}, the project's main job on an embedded default: starts a source (PostgreSQL, or MariaDB with
 * {@code --source mariadb}: {@link DemoSource}) and a PostgreSQL target on this machine, fills the source with a small shop, writes the manifest it uses, plans the migration exactly as
 * {@code tandem plan} would, and migrates it under live traffic that goes through the routing DataSource, following a
 * control plane started in this process. Run 1 copies, streams, verifies ({@link DemoOperator}) and is stopped; run 2
 * resumes the stream while the operator steps the canary, cuts over and cleans up (or rolls back); then every table
 * is compared row for row. Says honestly what is done and what is to come.
 */
public final class DemoScenario {
    /** What the demo borrows from the CLI: {@code tandem plan} and {@code tandem migrate}, as a user runs them. */
    public interface Console {
        /** Prints the plan of {@code manifest}; returns plan's exit code. */
        int plan(Path manifest, Map<String, String> env, PrintWriter out);

        /** Runs {@code tandem migrate} on the store with progress; Ctrl-C stops it cleanly. */
        MigrationOutcome migrate(ControlStore store, ManifestDocument doc, PrintWriter out);

        /** Prints the summary {@code tandem migrate} ends with. */
        void print(PrintWriter out, MigrationOutcome outcome);
    }

    /**
     * @param dir      where the manifest and the control store go
     * @param rollback after the cutover, roll back instead of the cleanup
     * @param scale    multiplies the sample data
     * @param source   the source's engine: {@code postgresql} or {@code mariadb}
     */
    public record Settings(Path dir, boolean rollback, int scale, String source) {
    }

    private final Settings settings;
    private final Map<String, String> env;
    private final Console console;
    private final PrintWriter out;

    public DemoScenario(Settings settings, Map<String, String> env, Console console, PrintWriter out) {
        this.settings = settings;
        this.env = env;
        this.console = console;
        this.out = out;
    }

    /** The whole demo; returns its exit code. */
    public int run() throws IOException {
        boolean maria = settings.source().equals("mariadb");
        out.println("Tandem demo: moving a shop database from " + (maria ? "MariaDB to PostgreSQL"
                : "one PostgreSQL to another") + ", on this machine.");
        out.println();
        String sourcePassword = "src-" + UUID.randomUUID();
        String targetPassword = "dst-" + UUID.randomUUID();
        try (DemoSource source = step("Starting the source " + (maria ? "MariaDB" : "PostgreSQL"),
                () -> DemoSource.start(settings.source()), db -> "port " + db.port());
             EmbeddedPostgres target = step("Starting the target PostgreSQL",
                     () -> EmbeddedPostgres.builder().database(DemoShop.DATABASE).start(), pg -> "port " + pg.port())) {
            step("Creating the shop on the source", () -> {
                source.populate(settings.scale(), sourcePassword);
                return source.rowCounts();
            }, counts -> String.format(Locale.ROOT, "%,d rows in %d tables",
                    counts.values().stream().mapToLong(Long::longValue).sum(), counts.size()));
            step("Creating the migration user on the target", () -> {
                DemoShop.prepareTarget(target, targetPassword);
                return DemoShop.MIGRATOR;
            }, user -> "user " + user + ", least privilege");

            Files.createDirectories(settings.dir());
            Path manifestFile = settings.dir().resolve("manifest.yaml");
            Files.writeString(manifestFile, DemoManifest.yaml(source, target.jdbcUrl(), "manual"));
            out.println("Wrote the manifest to " + manifestFile);
            out.println();

            Map<String, String> demoEnv = new HashMap<>(env);
            demoEnv.put(DemoManifest.SOURCE_PASSWORD_ENV, sourcePassword);
            demoEnv.put(DemoManifest.TARGET_PASSWORD_ENV, targetPassword);
            out.println("---- tandem plan -f " + manifestFile + " ----");
            int planExit = console.plan(manifestFile, demoEnv, out);
            out.println("---- end of plan ----");
            out.println();
            if (planExit != 0) {
                out.println("The plan found problems (exit " + planExit + "); the demo stops here.");
                return planExit;
            }
            int exit = migrate(new Stage(source, target, manifestFile, settings.dir().resolve("store"), demoEnv));
            if (exit != 0) {
                return exit;
            }
            Path storeDir = settings.dir().resolve("store");
            out.println("See it again with: tandem status --store " + storeDir + " " + DemoManifest.ID
                    + "   and: tandem runs --store " + storeDir + " " + DemoManifest.ID);
            out.println();
            whatIsNext();
            return 0;
        }
    }

    /** The databases and files of one demo. */
    private record Stage(DemoSource source, EmbeddedPostgres target, Path manifestFile, Path storeDir,
                         Map<String, String> env) {
    }

    /** The control plane, the shop's pools and its router; the two runs; the comparison. */
    private int migrate(Stage stage) throws IOException {
        deleteStore(stage.storeDir());
        Map<String, String> demoEnv = stage.env();
        demoEnv.put("TANDEM_ADMIN_TOKEN", "demo-admin-" + UUID.randomUUID());
        demoEnv.put("TANDEM_ROUTER_TOKEN", "demo-router-" + UUID.randomUUID());
        try (ControlStore store = ControlStore.open(stage.storeDir().toString(), demoEnv::get);
             ApiServer server = new ApiServer(store, demoEnv, Tokens.load(null, demoEnv), false)
                     .start("127.0.0.1", 0);
             HikariDataSource sourcePool = stage.source().appPool();
             HikariDataSource targetPool = DemoSource.targetPool(stage.target(), stage.source().targetSchema());
             RoutingClient routing = new RoutingClient(URI.create("http://127.0.0.1:" + server.port()),
                     DemoManifest.ID, demoEnv.get("TANDEM_ROUTER_TOKEN"), "shop-app-1", null);
             RoutingDataSource router = RoutingDataSource.following(sourcePool, targetPool, routing)) {
            String url = "http://127.0.0.1:" + server.port();
            out.println("The control plane (tandem server) runs in this process at " + url + ". The shop's "
                    + "application");
            out.println("connects through tandem-router's RoutingDataSource over its two pools, which follows the "
                    + "migration's");
            out.println("routing state; it sends about 100 transactions/s (half lookups, half writes) during the "
                    + "whole migration.");
            DemoWorkload workload = new DemoWorkload(router, settings.scale(), 100, stage.source().statusCast())
                    .start();
            DemoOperator operator = new DemoOperator(store, new ApiClient(url, demoEnv.get("TANDEM_ADMIN_TOKEN")), out);
            try {
                MigrationOutcome first = firstRun(stage, store, operator, routing);
                if (first.exitCode() != 0 || workload.failure() != null) {
                    return stopped(first, workload);
                }
                out.printf(Locale.ROOT, "The shop made %,d transactions so far, all on the source.%n",
                        workload.transactions());
                out.println("Run the same manifest again: the stream resumes from its confirmed position. Meanwhile, "
                        + "as an operator would");
                out.println("through the REST API or the CLI with --server " + url + ": canary reads 5% -> 25% -> "
                        + "75% of customers,");
                out.println("the cutover with the shop writing, and " + (settings.rollback() ? "a rollback."
                        : "the cleanup."));
                return secondRun(stage, store, operator, router, workload);
            } finally {
                workload.stop();
            }
        }
    }

    /** Run 1: copy and stream while the operator verifies, then stop it as tandem stop would. */
    private MigrationOutcome firstRun(Stage stage, ControlStore store, DemoOperator operator, RoutingClient routing) {
        out.println("---- tandem migrate -f " + stage.manifestFile() + " --store " + stage.storeDir() + " ----");
        ManifestDocument doc = read(stage);
        Thread director = operator.firstRun(routing, doc.manifest());
        MigrationOutcome outcome = console.migrate(store, doc, out);
        director.interrupt();
        console.print(out, outcome);
        out.println("---- end of migrate ----");
        out.println();
        return outcome;
    }

    /** Run 2: the stream resumes while the operator steps the canary and cuts over; then the tables are compared. */
    private int secondRun(Stage stage, ControlStore store, DemoOperator operator, RoutingDataSource router,
                          DemoWorkload workload) {
        out.println("---- tandem migrate -f " + stage.manifestFile() + " --store " + stage.storeDir() + " ----");
        AtomicReference<String> operatorFailure = new AtomicReference<>();
        Thread steps = new Thread(() -> {
            try {
                operator.secondRun(router, workload, () -> level(stage), settings.rollback());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException | SQLException e) {
                operatorFailure.set(e.getMessage());
                operator.say(e.getMessage() + "; stopping the migration");
                store.requests().request(DemoManifest.ID, Requests.Kind.STOP, "demo");
            }
        }, "demo-router-steps");
        steps.setDaemon(true);
        steps.start();
        MigrationOutcome outcome = console.migrate(store, read(stage), out);
        try {
            steps.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        steps.interrupt();
        workload.stop();
        console.print(out, outcome);
        out.println("---- end of migrate ----");
        out.println();
        if (outcome.exitCode() != 0 || workload.failure() != null || operatorFailure.get() != null) {
            return stopped(outcome, workload);
        }
        out.printf(Locale.ROOT, "The shop made %,d transactions in all (%,d lookups, %,d writes); %,d writes waited "
                        + "longer than the freeze timeout.%n", workload.transactions(), workload.reads(),
                workload.writes(), workload.freezeTimeouts());
        try (Connection s = stage.source().connect(); Connection t = stage.target().connect()) {
            return settings.rollback() ? compareNewOrders(stage.source(), s, t) : compareAll(stage.source(), s, t);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot compare the demo's tables: " + e.getMessage(), e);
        }
    }

    /** After a rollback the source took writes again; the target's new orders must all be on it. */
    private int compareNewOrders(DemoSource source, Connection s, Connection t) throws SQLException {
        long newest = newestOrder(t, source.targetSchema());
        for (String[] table : new String[][] {{"orders", "id"}, {"order_items", "order_id"}}) {
            TableComparison.Result r = source.compare(s, t, table[0], table[1] + " BETWEEN "
                    + DemoWorkload.NEW_ORDERS + " AND " + newest);
            out.printf(Locale.ROOT, "  %-20s %,8d new rows on the target, %s%n", source.targetSchema() + "."
                    + table[0], r.targetRows(),
                    r.equal() ? "all on the source, equal row for row" : r.differing() + " rows differ or are "
                            + "missing on the source: that is a bug in Tandem; please report it");
            if (!r.equal()) {
                return 1;
            }
        }
        return 0;
    }

    private int compareAll(DemoSource source, Connection s, Connection t) throws SQLException {
        for (String table : DemoShop.KEYS.keySet()) {
            TableComparison.Result r = source.compare(s, t, table, null);
            out.printf(Locale.ROOT, "  %-20s %,8d rows on the source, %,8d on the target, %s%n",
                    source.targetSchema() + "." + table, r.sourceRows(), r.targetRows(), r.equal() ? "equal row for row"
                            : r.differing()
                            + " rows differ: that is a bug in Tandem; please report it");
            if (!r.equal()) {
                return 1;
            }
        }
        return 0;
    }

    private int stopped(MigrationOutcome outcome, DemoWorkload workload) {
        out.println("The migration did not finish (exit " + outcome.exitCode() + (workload.failure() == null ? ""
                : "; shop traffic failed: " + workload.failure().getMessage()) + "); the demo stops here.");
        return outcome.exitCode() != 0 ? outcome.exitCode() : 1;
    }

    /** Source and target hold the same rows: every table compared row by row. */
    private static boolean level(Stage stage) throws SQLException {
        try (Connection s = stage.source().connect(); Connection t = stage.target().connect()) {
            for (String table : DemoShop.KEYS.keySet()) {
                if (!stage.source().compare(s, t, table, null).equal()) {
                    return false;
                }
            }
            return true;
        }
    }

    private static long newestOrder(Connection c, String schema) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(max(id), 0) FROM "
                + schema + ".orders")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static ManifestDocument read(Stage stage) {
        return new ManifestReader(stage.env()::get).document(stage.manifestFile(), ManifestReader.Purpose.RUN);
    }

    private static void deleteStore(Path storeDir) throws IOException {
        if (!Files.exists(storeDir)) {
            return;
        }
        try (var files = Files.walk(storeDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void whatIsNext() {
        out.println("Done: manifest validation, preflight on both databases, schema creation, the chunked,");
        out.println("tracked, resumable copy, change data capture (applied live during and after the copy; stop and");
        out.println("resume from the confirmed position), verification (tandem verify, lag-aware, and continuous");
        out.println("verification of every applied row), the REST control plane, and the routing DataSource the");
        out.println("shop's traffic went through: canary steps, the cutover with its write pause, the reverse stream,");
        out.println(settings.rollback() ? "and the rollback (run the demo without --rollback to see the cleanup "
                + "instead)." : "and the cleanup (run the demo with --rollback to see the rollback instead).");
        out.println("Still to come in Tandem (not done by this demo yet):");
        out.println("  - dashboard");
        out.println();
        out.println("The databases stop now. Run the demo again any time: ./tandem demo");
    }

    private <T> T step(String what, Supplier<T> work, Function<T, String> done) {
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
