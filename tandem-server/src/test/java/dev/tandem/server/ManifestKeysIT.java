package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.core.manifest.ManifestKeys;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every manifest key works end to end or is refused by {@code tandem plan}, {@code POST /migrations/{id}/test} and
 * {@code tandem migrate} alike (DESIGN.md; issue "no silent no-op"). The keys are {@link ManifestKeys#all}, read from
 * the reader's own key sets, so a key added to the reader fails {@link #everyKeyWorksOrIsRefused} until it is given
 * its evidence here: the test that drives it through the public surface (its source must hold that test and name the
 * key), or a refusal below. Each refusal runs for real against PostgreSQL and MariaDB: plan exits non-zero naming the
 * path, the REST API refuses the body (400) or its preflight says not ok naming the path, migrate exits non-zero
 * naming the path, and nothing was created on the target or the source.
 */
class ManifestKeysIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> MARIADB = DatabaseExtension.mariaDb();

    private static final String PW = "keys-pw";
    private static final String ADMIN = "admin-token-keys-0123456789";
    private static final Map<String, String> ENV = Map.of("PW", PW, "TANDEM_ADMIN_TOKEN", ADMIN);

    private static final String SERVER = "tandem-server/src/test/java/dev/tandem/server/";
    private static final String CORE = "tandem-core/src/test/java/dev/tandem/core/";
    private static final String ROUTER = "tandem-router/src/test/java/dev/tandem/router/";

    /** A key's evidence that it works: a test (file from the repository root, method) that drives it. */
    record Evidence(String file, String method) {
    }

    /** The keys that work, each with the test that shows it. */
    static final Map<String, Evidence> WORKS = new LinkedHashMap<>();

    static {
        works(SERVER + "ContinuousVerifyIT", "detectsDriftInSecondsAndAbortsPastTheThreshold",
                "abort_thresholds.drift_rows", "validation.continuous", "validation.rows_per_second");
        works(CORE + "migrate/AbortWatchTest", "errorRateCountsTheLastMinuteOnlyAndNeedsEnoughAttempts",
                "abort_thresholds.error_rate");
        works(SERVER + "LivePatchIT", "patchedPoliciesActInTheRunningProcess", "abort_thresholds.lag_seconds",
                "abort_thresholds.shadow_mismatch_rate", "validation.shadow_reads.sample", "validation.mode",
                "strategy.window_start",
                "strategy.window_end");
        works(SERVER + "ServerApiIT", "seedFlowCanaryStepsGatesAndAbortUnderAConcurrentWriter",
                "alerting.rules[].condition", "alerting.rules[].message", "alerting.rules[].name",
                "alerting.rules[].severity", "alerting.rules[].webhook", "apis[].id", "interlays[].id",
                "interlays[].endpoint", "description", "strategy.read_percentage", "strategy.write_mode.mode",
                "strategy.write_mode.policy", "strategy.write_mode.write_percentage", "data.type", "failure_handling",
                "id");
        works(SERVER + "MariaDbBinlogCdcIT", "theManifestsTypeChoicesHoldForTheCopyTheStreamAndVerification",
                "schema.mode", "schema.zero_dates", "schema.columns[].table", "schema.columns[].column",
                "schema.columns[].type");
        works(SERVER + "SourceTransactionsIT", "theTargetOnlyEverShowsSourceStatesAcrossBatchesAndKills", "cdc.apply");
        works(CORE + "manifest/ManifestReaderTest", "readsSeed000sConflictOverridesAndAlertRule",
                "cdc.conflict_resolution");
        works(SERVER + "CdcIT", "backfillAndStreamUnderAConcurrentWriterEndEqual", "cdc.heartbeat_interval",
                "cdc.method", "source.url", "source.user", "source.password", "target.url", "target.user",
                "target.password", "scope.include", "continuous.stop_when", "schema");
        works(SERVER + "CdcIT", "anIdleSourceReachesInSyncOnFirstStartAndAfterARestart", "continuous.enabled");
        works(SERVER + "SchemaChangeIT", "applyAddsWidensAndDropsItselfAndStopsForANarrowing",
                "cdc.on_schema_change");
        works(SERVER + "SchemaChangeIT", "aRenameOnATableNothingWritesIsFoundByComparingTheCatalogs",
                "cdc.schema_check_interval");
        works(SERVER + "TimestampCdcIT", "pollingFindsInsertsUpdatesDeletesAndLateCommitsAndEndsEqual",
                "cdc.overlap_window", "cdc.poll_interval", "cdc.timestamp_column");
        works(SERVER + "StreamFailuresIT", "aSourceDownLongerThanTheReconnectTimeoutIsASourceProblemThatARerunResumes",
                "cdc.reconnect_timeout");
        works(SERVER + "ManifestKeysIT", "conflictRulesDecideBetweenAChangeAndTheTargetsRow", "data",
                "conflict_resolution",
                "conflict_resolution.default", "conflict_resolution.timestamp_column",
                "conflict_resolution.overrides[].table", "conflict_resolution.overrides[].strategy",
                "conflict_resolution.overrides[].timestamp_column");
        works(SERVER + "BackfillIT", "copiesEveryKeyShapeAndColumnTypeExactly", "data.chunk_rows",
                "data.parallelism", "scope.tables");
        works(SERVER + "BackfillIT", "honoursReplaceNoneAndMergeOnExistingRowsWithoutFiringTargetTriggers",
                "data.replace");
        works(SERVER + "BackfillIT", "takesAThrottleChangeWhileTheRunGoesOn", "data.rows_per_second");
        works(SERVER + "BackfillIT", "refusesATableWithoutAKeyAndNamesTheWayOut", "scope.exclude");
        works(SERVER + "NoCopyIT", "noRowIsCopiedAndEveryChangeFromP0LandsOnTheBaseline", "initial_load.enabled",
                "migration");
        works(CORE + "manifest/ManifestReaderTest", "fullTypeFollowsFromNoChangeCaptureAndInitialLoadSkipMeansNoData",
                "initial_load");
        works(SERVER + "ApplyFailureIT", "retryThenAllRidesOutARefusalThatStopsWithinItsRetries",
                "failure_handling.type", "failure_handling.retry_count");
        works(SERVER + "TlsConnectionsIT", "copiesAndStreamsOverVerifiedTlsWithAPrivateCa", "source.properties",
                "target.properties");
        works(SERVER + "RoutingClientIT", "followsEpochsAndKeepsTheLastStateWhileTheControlPlaneIsAway",
                "strategy.type");
        works(ROUTER + "RoutingPolicyTest", "blueGreenSwitchesEverything", "strategy.active_is_new");
        works(ROUTER + "RoutingPolicyTest", "rollingUpdateMovesTheListedInstances", "strategy.migrated_instances");
        works(CORE + "manifest/ManifestReaderTest", "readsAllNineStrategiesOfSeed002WithTheirParameters",
                "strategy.total_instances");
        works(ROUTER + "RoutingPolicyTest", "stranglerFigMovesFeatureByFeature", "strategy.features");
        works(ROUTER + "RoutingPolicyTest", "featureFlagRoutesTheRolloutShareOfUsersWithAnEnabledFlag",
                "strategy.flags", "strategy.rollout_percentage");
        works(ROUTER + "RoutingPolicyTest", "geographicMovesRegionByRegion", "strategy.regions");
        works(ROUTER + "RoutingPolicyTest", "timeWindowReadsTheSourceUntilExecuted", "strategy.executed");
        works(SERVER + "ContinuousVerifyIT", "repairsDriftByItselfWhenConfigured", "validation.repair");
        works(SERVER + "ManifestKeysIT", "phasesSayWhatRunsAndTheGatesFollowThem", "phases", "type",
                "migration_id");
    }

    /** A value no code performs, refused: extra manifest lines, the source and target, the text every surface names. */
    record Refusal(String key, String lines, Side source, Side target, String expected) {
        @Override
        public String toString() {
            return key + " (" + expected + ")";
        }
    }

    enum Side { POSTGRES, MARIADB }

    static List<Refusal> refusals() {
        Side pg = Side.POSTGRES;
        Side maria = Side.MARIADB;
        return List.of(
                new Refusal("metrics", "metrics: [lag_seconds, drift_rows]", pg, pg, "metrics: is not a setting"),
                new Refusal("migration_id", "migration_id: another", pg, pg, "migration_id: 'another' differs from id"),
                new Refusal("data.type", "data: {type: snapshot}", pg, pg, "data.type: 'snapshot' (every table copied "
                        + "from one consistent snapshot of the source) is not built yet"),
                new Refusal("conflict_resolution.default", "conflict_resolution: {default: target_wins}", pg, pg,
                        "conflict_resolution.default: 'target_wins' decides between writes made on both sides"),
                new Refusal("conflict_resolution", "conflict_resolution: manual", pg, pg,
                        "conflict_resolution.default: 'manual' decides between writes made on both sides"),
                new Refusal("conflict_resolution", "conflict_resolution: source_wins\ncdc: {method: none}", pg, pg,
                        "conflict_resolution: decides how streamed changes meet the target's rows, but change "
                                + "capture is off"),
                new Refusal("conflict_resolution.merge_class", "conflict_resolution: {default: custom, merge_class: "
                        + "com.example.Merge}", pg, pg, "conflict_resolution.default: 'custom' decides"),
                new Refusal("conflict_resolution.overrides[].merge_class", "conflict_resolution: {overrides: "
                        + "[{table: accounts, strategy: source_wins, merge_class: com.example.Merge}]}", pg, pg,
                        "conflict_resolution.overrides[0].merge_class: 'com.example.Merge' is used only by "
                                + "strategy custom"),
                new Refusal("conflict_resolution.overrides[].table", "conflict_resolution: {overrides: [{table: "
                        + "acounts, strategy: source_wins}]}", pg, pg, "conflict_resolution.overrides[0].table: "
                        + "'acounts' is not a table this migration moves"),
                new Refusal("validation.mode", "validation: {mode: count}", pg, pg,
                        "validation.mode: 'count' is not built yet"),
                new Refusal("validation.mode", "validation: {mode: row_diff}", pg, pg,
                        "validation.mode: 'row_diff' is not built yet"),
                new Refusal("alerting.rules[].condition", "alerting: {rules: [{name: queue, condition: "
                        + "'conflicts_pending > 0'}]}", pg, pg, "alerting.rules[0].condition: 'conflicts_pending > "
                        + "0' reads conflicts_pending"),
                new Refusal("phases", "phases: [prepare, backfill]", pg, pg, "phases: [prepare, backfill] leaves "
                        + "out catch_up, but cdc.method logical_replication streams changes"),
                new Refusal("target.url", "cdc: {method: none}\nschema: existing", pg, maria,
                        "target: moving postgresql rows into mariadb needs the reverse type mapping"),
                new Refusal("schema", "cdc: {method: none}\nschema: create", pg, maria,
                        "schema: 'create' cannot create postgresql tables on mariadb yet"),
                new Refusal("schema.zero_dates", "schema: {mode: create, zero_dates: as_null}", pg, pg,
                        "schema.zero_dates: 'as_null' says what MySQL/MariaDB zero dates become, and a postgresql "
                                + "source has none"),
                new Refusal("schema.columns[].type", "schema: {mode: create, columns: [{table: accounts, column: "
                        + "balance, type: numeric}]}", pg, pg, "schema.columns: chooses PostgreSQL types for "
                        + "MySQL/MariaDB columns, but this migration goes from postgresql to postgresql"));
    }

    @TempDir
    static Path dir;
    private static InProcessServer server;

    @BeforeAll
    static void start() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'");
        }
        SOURCE.server().execute("CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL, "
                + "updated_at timestamptz NOT NULL DEFAULT now())",
                "INSERT INTO accounts (id, balance) SELECT g, g FROM generate_series(1, 2000) g", "ANALYZE");
        MARIADB.server().execute("CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL, "
                        + "updated_at timestamp(6) NOT NULL DEFAULT current_timestamp(6))",
                "INSERT INTO accounts (id, balance) VALUES (1, 1), (2, 2)",
                "CREATE USER 'migrator'@'%' IDENTIFIED BY '" + PW + "'",
                "GRANT ALL ON *.* TO 'migrator'@'%'");
        server = new InProcessServer(dir.resolve("server-store"), ENV);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void everyKeyWorksOrIsRefused() throws IOException {
        Path root = root();
        List<String> without = new ArrayList<>();
        for (String key : ManifestKeys.all()) {
            if (!WORKS.containsKey(key) && refusals().stream().noneMatch(r -> r.key().equals(key))) {
                without.add(key);
            }
        }
        assertThat(without).as("keys the reader accepts with neither a test that drives them nor a refusal")
                .isEmpty();
        assertThat(WORKS.keySet()).as("evidence for keys the reader no longer has").isSubsetOf(ManifestKeys.all());
        for (Map.Entry<String, Evidence> e : WORKS.entrySet()) {
            Path file = root.resolve(e.getValue().file() + ".java");
            assertThat(file).as(e.getKey()).exists();
            String text = Files.readString(file);
            assertThat(text).as(e.getKey() + ": the test " + e.getValue().method())
                    .contains("void " + e.getValue().method() + "(");
            String leaf = e.getKey().substring(e.getKey().lastIndexOf('.') + 1).replace("[]", "");
            assertThat(text).as(e.getKey() + " is named in " + file.getFileName()).contains(leaf);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusedByPlanTestAndMigrateAlike(Refusal r) throws Exception {
        String id = "keys-" + Integer.toHexString(r.toString().hashCode());
        Path manifest = dir.resolve(id + ".yaml");
        Files.writeString(manifest, String.join("\n", "id: " + id, endpoint("source", r.source()),
                endpoint("target", r.target()), "scope: {tables: [accounts]}",
                r.lines().contains("schema:") ? "" : "schema: create",
                r.lines().contains("cdc:") ? "" : "cdc: {method: logical_replication}",
                r.lines().contains("validation:") ? "" : "validation: {continuous: false}", r.lines(), ""));

        String made = "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                + "'information_schema')) * 1000000 + (SELECT count(*) FROM pg_replication_slots) * 1000 "
                + "+ (SELECT count(*) FROM pg_publication)";
        long targetBefore = count(TARGET.server(), made);
        long sourceBefore = count(SOURCE.server(), made);
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as("plan: " + plan.all()).isNotZero();
        assertThat(plan.all()).as("plan").contains(r.expected());

        JsonNode body = new ManifestReader(ENV::get).parse(Files.readString(manifest), manifest.toString());
        Api.Response created = server.api.call("POST", "/api/v1/migrations", ADMIN, body.toString());
        if (created.status() == 400) {
            assertThat(created.text()).as("POST /migrations").contains(r.expected());
        } else {
            assertThat(created.status()).as(created.toString()).isEqualTo(201);
            Api.Response tested = server.api.call("POST", "/api/v1/migrations/" + id + "/test", ADMIN, null);
            assertThat(tested.status()).as(tested.toString()).isEqualTo(200);
            assertThat(tested.data().path("ok").asBoolean()).as("POST /test: " + tested).isFalse();
            assertThat(tested.text()).as("POST /test").contains(r.expected());
        }

        CliRun migrate = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store",
                dir.resolve("store").toString());
        assertThat(migrate.exitCode()).as("migrate: " + migrate.all()).isNotZero();
        assertThat(migrate.all()).as("migrate").contains(r.expected());
        assertThat(count(TARGET.server(), made)).as("tables, slots, publications made on the target")
                .isEqualTo(targetBefore);
        assertThat(count(SOURCE.server(), made)).as("tables, slots, publications made on the source")
                .isEqualTo(sourceBefore);
    }

    /**
     * Seed 001's {@code migration_id} and {@code phases}: a copy-only migration ({@code phases: [prepare, backfill]})
     * copies, plans no stream and no cutover, completes; {@code type} agrees (full).
     */
    @Test
    void phasesSayWhatRunsAndTheGatesFollowThem() throws Exception {
        Path manifest = dir.resolve("phases.yaml");
        Files.writeString(manifest, String.join("\n", "migration_id: copy-only", endpoint("source", Side.POSTGRES),
                endpoint("target", Side.POSTGRES), "scope: {tables: [accounts]}", "schema: create",
                "type: full", "phases: [prepare, backfill]", "validation: {continuous: false}", ""));
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("Plan for migration copy-only", "No change capture",
                "No cutover: phases [prepare, backfill] leave it out").doesNotContain("Cut over (tandem cutover)");
        String store = dir.resolve("phases-store").toString();
        CliRun migrate = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store);
        try {
            assertThat(migrate.exitCode()).as(migrate.all()).isZero();
            assertThat(count(TARGET.server(), "SELECT count(*) FROM accounts")).isEqualTo(2000);
            CliRun status = CliRun.of(ENV, "status", "copy-only", "--store", store, "--json");
            assertThat(Api.parse(status.out()).path("status").asText()).as(status.all()).isEqualTo("completed");
        } finally {
            TARGET.server().execute("DROP TABLE IF EXISTS accounts");
        }
    }

    /**
     * Conflict resolution through {@code tandem migrate}: a table under {@code newest_wins} keeps a target row whose
     * timestamp is newer than the change's, the default {@code source_wins} overwrites — onto a baseline the target
     * already holds ({@code data: none}), so each side's rows are set up exactly.
     */
    @Test
    void conflictRulesDecideBetweenAChangeAndTheTargetsRow() throws Exception {
        for (EmbeddedPostgres pg : List.of(SOURCE.server(), TARGET.server())) {
            pg.execute("CREATE SCHEMA conflicts",
                    "CREATE TABLE conflicts.inv (id int PRIMARY KEY, v int NOT NULL, ts timestamptz NOT NULL)",
                    "CREATE TABLE conflicts.plain (id int PRIMARY KEY, v int NOT NULL)",
                    "CREATE TABLE conflicts.inherits (id int PRIMARY KEY, v int NOT NULL, ts timestamptz NOT NULL)",
                    "INSERT INTO conflicts.inv SELECT g, g, '2020-01-01' FROM generate_series(1, 3) g",
                    "INSERT INTO conflicts.inherits SELECT g, g, '2020-01-01' FROM generate_series(1, 3) g",
                    "INSERT INTO conflicts.plain SELECT g, g FROM generate_series(1, 3) g");
        }
        TARGET.server().execute("UPDATE conflicts.inv SET v = 100, ts = '2100-01-01' WHERE id = 1",
                "UPDATE conflicts.inherits SET v = 100, ts = '2100-01-01' WHERE id = 1",
                "UPDATE conflicts.plain SET v = 100 WHERE id = 1");
        Path manifest = dir.resolve("conflicts.yaml");
        Files.writeString(manifest, String.join("\n", "id: conflicts", endpoint("source", Side.POSTGRES),
                endpoint("target", Side.POSTGRES), "scope: {include: ['conflicts.*']}", "schema: existing",
                "data: none", "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "conflict_resolution: {default: source_wins, timestamp_column: ts, overrides: [{table: conflicts.inv, "
                        + "strategy: newest_wins, timestamp_column: ts}, {table: conflicts.inherits, strategy: "
                        + "newest_wins}]}",
                "validation: {continuous: false}", "continuous: {stop_when: manual}", ""));
        String store = dir.resolve("conflicts-store").toString();
        java.util.concurrent.CompletableFuture<CliRun> migrate = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store));
        try {
            StoreWait.catchUp(store, ENV, "conflicts", migrate);
            SOURCE.server().execute("UPDATE conflicts.inv SET v = v + 10, ts = now() WHERE id IN (1, 2)",
                    "UPDATE conflicts.inherits SET v = v + 10, ts = now() WHERE id IN (1, 2)",
                    "UPDATE conflicts.plain SET v = v + 10 WHERE id IN (1, 2)");
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (count(TARGET.server(), "SELECT count(*) FROM conflicts.inv WHERE id = 2 AND v = 12")
                    + count(TARGET.server(), "SELECT count(*) FROM conflicts.plain WHERE id = 2 AND v = 12")
                    + count(TARGET.server(), "SELECT count(*) FROM conflicts.inherits WHERE id = 2 AND v = 12") < 3
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(count(TARGET.server(), "SELECT v FROM conflicts.inv WHERE id = 2")).as("applied").isEqualTo(12);
            assertThat(count(TARGET.server(), "SELECT v FROM conflicts.inv WHERE id = 1"))
                    .as("newest_wins: the target's newer row stays").isEqualTo(100);
            assertThat(count(TARGET.server(), "SELECT v FROM conflicts.inherits WHERE id = 1"))
                    .as("newest_wins on the section's timestamp_column").isEqualTo(100);
            assertThat(count(TARGET.server(), "SELECT v FROM conflicts.plain WHERE id = 1"))
                    .as("source_wins: the change replaces the target's row").isEqualTo(11);
        } finally {
            CliRun abort = CliRun.of(ENV, "abort", "conflicts", "--store", store);
            assertThat(abort.exitCode()).as(abort.all()).isZero();
            migrate.get(2, java.util.concurrent.TimeUnit.MINUTES);
        }
    }

    private static String endpoint(String role, Side side) {
        String url = side == Side.POSTGRES ? (role.equals("source") ? SOURCE : TARGET).server().jdbcUrl()
                : MARIADB.server().jdbcUrl();
        return role + ": {url: '" + url + "', user: migrator, password: ${env:PW}}";
    }

    private static long count(EmbeddedPostgres pg, String sql) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void works(String file, String method, String... keys) {
        for (String k : keys) {
            WORKS.put(k, new Evidence(file, method));
        }
    }

    /** The repository's root (Maven runs this module's tests in its own directory). */
    private static Path root() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("tandem-core"))) {
            p = p.getParent();
        }
        assertThat(p).as("the repository root above " + Path.of("").toAbsolutePath()).isNotNull();
        return p;
    }
}
