package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tandem demo}, in process and as the runnable jar a user starts. */
class DemoIT {
    @TempDir
    Path dir;

    @Test
    void migratesTheShopAndLeavesACompletedMigrationBehind() throws Exception {
        CliRun run = CliRun.of(Map.of(), "demo", "--dir", dir.toString());
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).contains("22,000 rows in 5 tables", "Ready: every check passed",
                "created table public.orders", "public.order_items [########################] 100%",
                "every chunk PASS", "Opened the change stream tandem_shop_demo",
                "Migration shop-demo: paused (phase catch_up). streaming stopped by tandem stop",
                "Migration shop-demo: completed (phase cleanup)", "Still to come",
                "Verifying continuously (run ", "verify: Migration shop-demo streams changes",
                "(demo: tandem cutover shop-demo --server http://127.0.0.1:", "a rollback now would lose nothing",
                "0 writes waited longer than the freeze timeout");
        // the canary steps moved lookups to the target, the cutover reported its write pause
        assertThat(run.out()).containsPattern("canary 5% \\(PATCH strategy.read_percentage 0.05\\): lookups [0-9]+ "
                + "on the source, [0-9]+ on the target \\([0-9]+%\\); [1-9][0-9]* writes, all on the source");
        assertThat(run.out()).containsPattern("canary 75% .*: lookups [0-9]+ on the source, [1-9][0-9]* on the "
                + "target");
        assertThat(run.out()).containsPattern("cutover: writes frozen [0-9]+ ms; write pause over [0-9]+ blocked "
                + "transactions: p50 [0-9]+ ms, p99 [0-9]+ ms, max [0-9]+ ms; 0 over the freeze timeout");
        assertThat(run.out()).containsPattern("\\(demo: [1-9][0-9]* writes on the target in 3 s");
        assertThat(run.out()).containsPattern("verify: run [0-9]+ compared [0-9,]+ rows in [0-9.]+ s: no drift");
        assertThat(run.out()).doesNotContain("DRIFT").doesNotContain("ABORTING");
        assertThat(run.out()).containsPattern("public.order_items +[0-9,]+ rows on the source, +[0-9,]+ on the "
                + "target, equal row for row");
        assertThat(run.out()).doesNotContain("rows differ");
        noStreamThreadsLeft();
        String manifest = Files.readString(dir.resolve("manifest.yaml"));
        assertThat(manifest).contains("password: ${env:TANDEM_DEMO_SOURCE_PASSWORD}");
        assertThat(run.all()).doesNotContain("src-").doesNotContain("dst-");

        String store = dir.resolve("store").toString();
        CliRun status = CliRun.of(Map.of(), "status", "--store", store, "shop-demo");
        assertThat(status.exitCode()).as(status.all()).isZero();
        assertThat(status.out()).contains("state    completed", "phase    cleanup",
                "demo  create  - -> pending/prepare",
                "advance  running/backfill -> running/catch_up", "advance  running/catch_up -> running/cutover",
                "advance  running/cutover -> running/cleanup", "complete  running/cleanup -> completed/cleanup");
        JsonNode list = new ObjectMapper().readTree(CliRun.of(Map.of(), "status", "--store", store, "--json").out());
        assertThat(list.get("migrations")).singleElement().satisfies(m -> {
            assertThat(m.get("id").asText()).isEqualTo("shop-demo");
            assertThat(m.get("status").asText()).isEqualTo("completed");
            assertThat(m.get("strategy").get("type").asText()).isEqualTo("canary");
        });
        CliRun runs = CliRun.of(Map.of(), "runs", "--store", store, "shop-demo");
        assertThat(runs.out()).contains("backfill", "ENDED", "PASS=16");
        CliRun unknown = CliRun.of(Map.of(), "status", "--store", store, "nope");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("migration nope not found in the control store");
        CliRun noStore = CliRun.of(Map.of(), "status", "--store", dir.resolve("missing").toString());
        assertThat(noStore.exitCode()).isEqualTo(2);
        assertThat(noStore.err()).contains("no control store at", "pass --store");

        // again on the same directory, rolling back this time: the source has every order the target took
        CliRun again = CliRun.of(Map.of(), "demo", "--dir", dir.toString(), "--rollback");
        assertThat(again.exitCode()).as("the demo can run again on the same directory: " + again.all()).isZero();
        assertThat(again.out()).contains("Migration shop-demo: rolled_back (phase cutover)",
                "(demo: tandem rollback shop-demo --server http://127.0.0.1:")
                .containsPattern("rollback: writes frozen [0-9]+ ms; write pause over [0-9]+ blocked transactions")
                .containsPattern("public.orders +[0-9,]+ new rows on the target, all on the source, equal row for row")
                .doesNotContain("rows differ");
        noStreamThreadsLeft();
    }

    /**
     * {@code ./tandem demo --source mariadb}, through the launcher a user runs (the jar leaves MariaDB's binaries out;
     * the launcher adds them from the local Maven repository): the shop on MariaDB into PostgreSQL through the type
     * mapping, the binary log streamed while the shop writes through the router, canary reads, the cutover, the
     * reverse stream (PostgreSQL's logical replication applied into MariaDB) bringing the source level, the cleanup;
     * every table then compared across the engines column by column (the testkit's CrossEngineComparison, nothing
     * Tandem computes).
     */
    @Test
    void theLauncherRunsTheDemoFromMariaDb() throws Exception {
        Path launcher = Path.of("..", "tandem").toAbsolutePath().normalize();
        assertThat(launcher).exists();
        Path log = dir.resolve("maria.log");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "demo", "--dir", dir.toString(), "--source",
                "mariadb").redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("TANDEM_JAVA_OPTS", "-Xmx256m");
        Process p = pb.start();
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("demo finished").isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("moving a shop database from MariaDB to PostgreSQL", "22,000 rows in 5 tables",
                "Ready: every check passed", "created table shop.orders", "every chunk PASS",
                "(a position in the binary log; nothing is created on the source)", "Verifying continuously (run ",
                "Migration shop-demo: paused (phase catch_up). streaming stopped by tandem stop",
                "(demo: tandem cutover shop-demo --server http://127.0.0.1:", "a rollback now would lose nothing",
                "Migration shop-demo: completed (phase cleanup)", "0 writes waited longer than the freeze timeout");
        assertThat(out).containsPattern("verify: run [0-9]+ compared [0-9,]+ rows in [0-9.]+ s: no drift");
        assertThat(out).containsPattern("canary 75% .*: lookups [0-9]+ on the source, [1-9][0-9]* on the target");
        assertThat(out).containsPattern("cutover: writes frozen [0-9]+ ms; write pause over [0-9]+ blocked "
                + "transactions: p50 [0-9]+ ms, p99 [0-9]+ ms, max [0-9]+ ms; 0 over the freeze timeout");
        assertThat(out).containsPattern("\\(demo: [1-9][0-9]* writes on the target in 3 s");
        for (String table : List.of("customers", "products", "orders", "order_items", "inventory")) {
            assertThat(out).containsPattern("shop\\." + table + " +[0-9,]+ rows on the source, +[0-9,]+ on the "
                    + "target, equal row for row");
        }
        assertThat(out).doesNotContain("DRIFT").doesNotContain("ABORTING").doesNotContain("rows differ")
                .doesNotContain("WARN").doesNotContain("ERROR").doesNotContain("src-").doesNotContain("dst-");
        assertThat(Files.readString(dir.resolve("manifest.yaml"))).contains("jdbc:mariadb://", "method: binlog");

        CliRun bad = CliRun.of(Map.of(), "demo", "--dir", dir.toString(), "--source", "oracle");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--source oracle is not a demo source; use postgresql or mariadb");
    }

    /** When the demo returns, every stream it opened is closed: no engine or lag sampler of it keeps polling. */
    private static void noStreamThreadsLeft() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> left;
        do {
            left = Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                    .filter(n -> n.equals("tandem-lag-shop-demo") || n.equals("tandem-poll-tandem_shop_demo"))
                    .toList();
            if (left.isEmpty()) {
                return;
            }
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        assertThat(left).as("threads of the demo's streams still running after it returned").isEmpty();
    }

    @Test
    void theRunnableJarRunsTheDemo() throws Exception {
        Path jar = Path.of("target", "tandem.jar").toAbsolutePath();
        assertThat(jar).exists();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-jar", jar.toString(), "demo", "--dir",
                dir.toString()));
        Path log = dir.resolve("demo.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("demo finished").isTrue();
        String output = Files.readString(log);
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("Ready: every check passed", "Migration shop-demo: completed")
                .doesNotContain("WARN").doesNotContain("ERROR");
    }
}
