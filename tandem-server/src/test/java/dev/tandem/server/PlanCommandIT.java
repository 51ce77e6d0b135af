package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code tandem plan} end to end: exit codes, text and JSON, against real PostgreSQL and MariaDB. */
class PlanCommandIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> REPLICA_ONLY = DatabaseExtension.postgres(EmbeddedPostgres.builder().walLevel("replica"));
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> MARIADB = DatabaseExtension.mariaDb();

    private static final String SECRET = "pw-that-must-never-print";
    private static final Map<String, String> ENV = Map.of("SRC_PASSWORD", SECRET, "DST_PASSWORD", SECRET);

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        for (EmbeddedPostgres pg : new EmbeddedPostgres[] {SOURCE.server(), REPLICA_ONLY.server(), TARGET.server()}) {
            pg.execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + SECRET + "'",
                    "CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL)",
                    "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total numeric)");
        }
        SOURCE.server().execute("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 1000) g", "ANALYZE");
        TARGET.server().execute("DROP TABLE customers", "INSERT INTO orders VALUES (1, 1, 9.99)");
        MARIADB.server().execute("CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(100) NOT NULL)",
                "CREATE USER 'migrator'@'%' IDENTIFIED BY '" + SECRET + "'",
                "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'migrator'@'%'");
    }

    @Test
    void exitsZeroWhenEverythingIsReady() throws Exception {
        CliRun run = plan(manifest(SOURCE.server().jdbcUrl(), TARGET.server().jdbcUrl(), "tables: [customers]"));
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).contains("Plan for migration cli-test", "[ok]    wal_level is logical",
                "public.customers", "1,000", "Ready: every check passed");
        assertThat(run.all()).doesNotContain(SECRET);
    }

    @Test
    void exitsFourAndNamesTheFixWhenTheSourceHasWalLevelReplica() throws Exception {
        CliRun run = plan(manifest(REPLICA_ONLY.server().jdbcUrl(), TARGET.server().jdbcUrl(), "tables: [customers]"));
        assertThat(run.exitCode()).as(run.all()).isEqualTo(4);
        assertThat(run.out()).contains("[ERROR] wal_level must be 'logical', not 'replica'",
                "fix: Set wal_level = logical (ALTER SYSTEM SET wal_level = logical;) and restart PostgreSQL",
                "Not ready: 1 problem on the source, 0 on the target");
    }

    /**
     * A host that accepts the connection and then never answers (a firewall that swallows packets, a hung server):
     * plan must end, with the source named as the problem, not wait forever — PostgreSQL and MariaDB alike. Without
     * a bound on the PostgreSQL login it hung.
     */
    @Test
    void aSourceThatAcceptsAndNeverAnswersEndsThePlanWithExitFour() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50,
                java.net.InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                java.util.List<java.net.Socket> held = new java.util.ArrayList<>();
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept()); // and never a byte back
                    } catch (java.io.IOException e) {
                        break;
                    }
                }
            }, "silent-server");
            acceptor.setDaemon(true);
            acceptor.start();
            for (String scheme : new String[] {"postgresql", "mariadb"}) {
                Path m = manifest("jdbc:" + scheme + "://127.0.0.1:" + silent.getLocalPort() + "/db",
                        TARGET.server().jdbcUrl(), "tables: [customers]");
                CliRun run = java.util.concurrent.CompletableFuture.supplyAsync(() -> plan(m))
                        .get(3, java.util.concurrent.TimeUnit.MINUTES);
                assertThat(run.exitCode()).as(scheme + ": " + run.all()).isEqualTo(4);
                assertThat(run.all()).as(scheme).contains("127.0.0.1:" + silent.getLocalPort())
                        .doesNotContain(SECRET);
            }
        }
    }

    @Test
    void exitsFiveForATargetThatWouldBeOverwritten() throws Exception {
        CliRun run = plan(manifest(SOURCE.server().jdbcUrl(), TARGET.server().jdbcUrl(), "tables: [customers, orders]"),
                "--json");
        assertThat(run.exitCode()).as(run.all()).isEqualTo(5);
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(json.get("ok").asBoolean()).isFalse();
        assertThat(json.get("exit_code").asInt()).isEqualTo(5);
        assertThat(json.get("problems").get(0).asText()).startsWith("target: table public.orders exists on the target "
                + "and has rows");
        assertThat(json.get("tables")).extracting(t -> t.get("table").asText() + " " + t.get("target_action").asText())
                .containsExactly("public.customers create", "public.orders blocked");
        assertThat(json.get("source").get("change_log_position").asText()).matches("[0-9A-F]+/[0-9A-F]+");
    }

    @Test
    void exitsTwoWithEveryProblemOfABadManifest() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, String.join("\n", "id: five",
                "source: {url: 'jdbc:postgresql://a/db', password: ${env:SRC_PASSWORD}}",
                "target: {url: 'postgres://b/db'}",
                "strategy: {type: canary, read_percentage: 1.5}",
                "data: {type: scan, chunk_rows: 0}",
                "failure_handling: {type: rollback_all, retry_count: 3}",
                "validaton: {mode: checksum}", ""));
        CliRun text = CliRun.of(ENV, "plan", "-f", file.toString());
        assertThat(text.exitCode()).isEqualTo(2);
        assertThat(text.out()).contains("has 5 problems:",
                "strategy.read_percentage: 1.5 is out of range; use 0.0 to 1.0",
                "validaton: is not a known key of the manifest; did you mean validation?");
        CliRun json = CliRun.of(ENV, "plan", "-f", file.toString(), "--json");
        assertThat(json.exitCode()).isEqualTo(2);
        JsonNode problems = new ObjectMapper().readTree(json.out()).get("problems");
        assertThat(problems).hasSize(5);
        assertThat(problems.get(0).get("path").asText()).isNotEmpty();
        assertThat(problems).allSatisfy(p -> assertThat(p.get("fix").asText()).isNotEmpty());
    }

    @Test
    void plansAMariaDbSourceForAPostgresTarget() throws Exception {
        String src = MARIADB.server().jdbcUrl().replace("jdbc:mariadb:", "jdbc:mysql:");
        CliRun run = plan(manifest(src, TARGET.server().jdbcUrl(), "tables: [customers]"));
        // every check of both databases passes: copy and binlog stream (cdc.method auto) are built for it
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.out()).contains("(MariaDB 11.4", "[ok]    binlog_format is ROW", "[ok]    binlog_row_image is FULL",
                "tandem.customers", "Record the binlog position P0").doesNotContain("[ERROR]");
    }

    /**
     * A MariaDB source against an existing PostgreSQL target: each column is held against the PostgreSQL type its
     * MySQL type maps to (the type mapping's rules), not compared by name — before, every column failed and the fix
     * read {@code ALTER COLUMN id TYPE bigint(20)}, which PostgreSQL refuses. A mapping that is lossy or risky is a
     * warning; a target too narrow for the mapped type gets the ALTER in PostgreSQL's words.
     */
    @Test
    void holdsMariaDbColumnsAgainstTheirMappedPostgresTypes() throws Exception {
        MARIADB.server().execute("CREATE TABLE typed (id int(10) unsigned PRIMARY KEY, big bigint(20) NOT NULL, "
                + "flag tinyint(1), amount decimal(12,2), made datetime(6), label varchar(20))");
        TARGET.server().execute("CREATE SCHEMA tandem", "CREATE TABLE tandem.typed (id integer PRIMARY KEY, "
                + "big bigint NOT NULL, flag boolean, amount numeric(12,2), made timestamp(6), label text)");
        Path m = Files.createTempFile(dir, "m", ".yaml");
        Files.writeString(m, String.join("\n", "id: mapped",
                "source: {url: '" + MARIADB.server().jdbcUrl() + "', user: migrator, password: ${env:SRC_PASSWORD}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:DST_PASSWORD}}",
                "scope: {tables: [typed]}", "schema: existing", "data: none", "cdc: {method: none}", ""));
        CliRun run = plan(m);
        assertThat(run.exitCode()).as(run.all()).isEqualTo(5);
        assertThat(run.out()).contains("column id is int(10) unsigned on the source (bigint in PostgreSQL) but "
                        + "integer on the target", "ALTER TABLE tandem.typed ALTER COLUMN id TYPE bigint;",
                "column flag: tinyint(1) maps to boolean; tinyint(1) holds -128..127",
                "column made: datetime(6) maps to timestamp(6) without time zone; a zero date")
                .doesNotContain("bigint(20)", "column big is", "column amount is", "column label is");
    }

    @Test
    void refusesInputItCannotUseWithExitTwoAndNoStackTrace() throws Exception {
        CliRun unsupported = plan(manifest("jdbc:oracle:thin:@//db:1521/x", TARGET.server().jdbcUrl(), "tables: [t]"));
        assertThat(unsupported.exitCode()).isEqualTo(2);
        assertThat(unsupported.err()).contains("source.url: 'jdbc:oracle:thin:@//db:1521/x' is not supported; use a URL "
                + "starting with jdbc:mariadb:, jdbc:mysql:, jdbc:postgresql:");

        CliRun missing = CliRun.of(ENV, "plan", "-f", dir.resolve("nope.yaml").toString());
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).contains("manifest file", "nope.yaml not found", "pass -f with the path of your manifest");

        CliRun noFile = CliRun.of(ENV, "plan");
        assertThat(noFile.exitCode()).isEqualTo(2);
        assertThat(noFile.err()).contains("Missing required option: '--file=MANIFEST'", "run 'tandem plan --help'");

        for (CliRun r : new CliRun[] {unsupported, missing, noFile}) {
            assertThat(r.all()).doesNotContain("\tat ").doesNotContain("Exception");
        }
    }

    @Test
    void helpsANewcomer() {
        CliRun root = CliRun.of(ENV);
        assertThat(root.exitCode()).isZero();
        assertThat(root.out()).contains("Usage: tandem", "plan", "demo", "Exit codes: 0 ok, 1 drift found, 2 bad input");
        CliRun help = CliRun.of(ENV, "plan", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("-f, --file=MANIFEST", "--json", "GRANT", "Exit codes: 0 ready to migrate",
                "${env:NAME} in").doesNotContain("null");
        assertThat(CliRun.of(ENV, "--version").out()).startsWith("tandem ");
        assertThat(CliRun.of(ENV, "frobnicate").exitCode()).isEqualTo(2);
    }

    private CliRun plan(Path manifest, String... extra) {
        String[] args = new String[2 + extra.length + 1];
        args[0] = "plan";
        args[1] = "-f";
        args[2] = manifest.toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        return CliRun.of(ENV, args);
    }

    private Path manifest(String sourceUrl, String targetUrl, String scope) throws Exception {
        Path file = Files.createTempFile(dir, "m", ".yaml");
        Files.writeString(file, String.join("\n", "id: cli-test",
                "source: {url: '" + sourceUrl + "', user: migrator, password: ${env:SRC_PASSWORD}}",
                "target: {url: '" + targetUrl + "', user: migrator, password: ${env:DST_PASSWORD}}",
                "scope: {" + scope + "}", ""));
        return file;
    }
}
