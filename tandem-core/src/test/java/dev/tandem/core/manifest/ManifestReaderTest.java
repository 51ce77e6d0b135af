package dev.tandem.core.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.error.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestReaderTest {
    private static final Map<String, String> ENV = Map.of("SRC_PASSWORD", "s3cret-src", "DST_PASSWORD", "s3cret-dst");
    private final ManifestReader reader = new ManifestReader(ENV::get);

    @Test
    void readsSeed000sMigrationBlockVerbatim() {
        Manifest m = reader.read(resource("seeds/seed000-block.yaml"), "seed000", ManifestReader.Purpose.RUN);
        assertThat(m.type()).isEqualTo(MigrationType.INCREMENTAL);
        assertThat(m.data().moves()).isTrue();
        assertThat(m.cdc()).isEqualTo(new Cdc(Cdc.Method.AUTO, "updated_at", Duration.ofSeconds(30),
                Cdc.DEFAULT_HEARTBEAT_INTERVAL, Cdc.DEFAULT_OVERLAP_WINDOW, Cdc.Apply.GROUP_COMMIT,
                Cdc.DEFAULT_RECONNECT_TIMEOUT, Cdc.OnSchemaChange.STOP, Cdc.DEFAULT_SCHEMA_CHECK_INTERVAL));
        assertThat(m.conflictResolution().defaultStrategy()).isEqualTo(ConflictResolution.Strategy.SOURCE_WINS);
        assertThat(m.continuous()).isEqualTo(new Continuous(true, Continuous.StopWhen.MANUAL));
    }

    @Test
    void readsSeed000sConflictOverridesAndAlertRule() {
        Manifest m = reader.read(resource("seeds/seed000-conflicts-alerting.yaml"), "seed000", ManifestReader.Purpose.DRAFT);
        ConflictResolution cr = m.conflictResolution();
        assertThat(cr.defaultStrategy()).isEqualTo(ConflictResolution.Strategy.SOURCE_WINS);
        assertThat(cr.overrides()).containsExactly(
                new ConflictResolution.Override("user_preferences", ConflictResolution.Strategy.TARGET_WINS, null, null),
                new ConflictResolution.Override("inventory", ConflictResolution.Strategy.NEWEST_WINS, "last_updated", null));
        Alerting.Rule rule = m.alerting().rules().get(0);
        assertThat(rule.name()).isEqualTo("high_cdc_lag");
        assertThat(rule.severity()).isEqualTo(Alerting.Severity.HIGH);
        assertThat(rule.message()).isEqualTo("CDC lag exceeded 5 minutes");
        assertThat(rule.condition().test(Map.of("lag_seconds", 301.0))).isTrue();
        assertThat(rule.condition().test(Map.of("lag_seconds", 300.0))).isFalse();
    }

    @Test
    void readsDesignMdsManifestWithUnquotedEnvReferencesInFlowMappings() {
        Manifest m = reader.read(resource("seeds/design-example.yaml"), "design", ManifestReader.Purpose.RUN);
        assertThat(m.source().password().reveal()).isEqualTo("s3cret-src");
        assertThat(m.target().password().reveal()).isEqualTo("s3cret-dst");
        assertThat(m.scope().tables()).containsExactly("public.orders", "public.customers");
        assertThat(m.data()).isEqualTo(new DataMovement(DataMovement.Type.SCAN, DataMovement.Replace.REPLACE, 50000, 4, 0));
        assertThat(m.conflictResolution().forTable("inventory")).isPresent();
        assertThat(m.strategy()).isEqualTo(new Strategy.Canary(0.05,
                new WriteMode(WriteMode.Mode.DUAL_WRITE, WriteMode.Policy.OLD_AUTHORITATIVE, null)));
        assertThat(m.validation()).isEqualTo(new Validation(Validation.Mode.CHECKSUM, true, 0.01, false, 50_000));
        assertThat(m.abortThresholds()).isEqualTo(new AbortThresholds(300.0, 0L, 0.001, 0.01));
        assertThat(m.failureHandling()).isEqualTo(new FailureHandling(FailureHandling.Type.RETRY_THEN_ALL, 3));
    }

    @Test
    void storesTheDocumentAsWrittenWithoutWhatTheEnvironmentHeld() {
        ManifestDocument doc = reader.document(resource("seeds/design-example.yaml"), "design", ManifestReader.Purpose.RUN);
        assertThat(doc.document().get("source").get("password").asText()).isEqualTo("${env:SRC_PASSWORD}");
        assertThat(doc.document().toString()).doesNotContain("s3cret");
        assertThatThrownBy(() -> reader.document("{\"id\": \"x\", \"source\": {\"url\": \"jdbc:postgresql://h/d\", "
                + "\"password\": \"written-here\"}}", "body", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly("source.password: ****** is written as itself, "
                                + "and would be stored with the migration in plain text; write ${env:SOURCE_PASSWORD} "
                                + "(and export it) or ${file:/path/to/secret}"));
    }

    @Test
    void refusesSecretsWrittenAsThemselvesAndReadsThemFromFiles(@TempDir Path dir)
            throws Exception {
        Path secret = dir.resolve("pw");
        Files.writeString(secret, "from-a-file\n");
        Manifest m = reader.read("id: x\nsource: {url: 'jdbc:postgresql://h/d', user: u, password: ${file:" + secret
                + "}}\ntarget: {url: 'jdbc:postgresql://h/e', password: '${file:" + secret + "}', properties: "
                + "{sslpassword: '${env:SRC_PASSWORD}', ssl: 'true', sslkey: /etc/tandem/client.pk8}}\n", "m.yaml",
                ManifestReader.Purpose.RUN);
        assertThat(m.target().properties()).as("a key's file is a path, not a secret").containsEntry("sslkey",
                "/etc/tandem/client.pk8");
        assertThat(m.source().password().reveal()).isEqualTo("from-a-file");
        assertThat(m.target().password().reveal()).isEqualTo("from-a-file");
        assertThat(m.target().properties()).containsEntry("sslpassword", "s3cret-src");

        String literals = "id: x\nsource: {url: 'jdbc:postgresql://u:hunter2@h/d', password: ''}\n"
                + "target: {url: 'jdbc:postgresql://h/e?password=hunter3', properties: {sslpassword: hunter4}}\n"
                + "description: 'by ${env:SRC_PASSWORD}'\n";
        assertThatThrownBy(() -> reader.read(literals, "m.yaml", ManifestReader.Purpose.RUN))
                .isInstanceOfSatisfying(ManifestException.class, ex -> {
                    assertThat(ex.getMessage()).doesNotContain("hunter").doesNotContain("s3cret");
                    assertThat(ex.details()).extracting(Problem::message).containsExactlyInAnyOrder(
                            "source.url: 'jdbc:postgresql://u:******@h/d' holds a password, which would be stored with "
                                    + "the migration in plain text; take it out of the URL and write source.password: "
                                    + "${env:SOURCE_PASSWORD}",
                            "target.url: 'jdbc:postgresql://h/e?password=******' holds a password, which would be "
                                    + "stored with the migration in plain text; take it out of the URL and write "
                                    + "target.password: ${env:TARGET_PASSWORD}",
                            "target.properties.sslpassword: ****** is written as itself, and would be stored with the "
                                    + "migration in plain text; write ${env:TARGET_PASSWORD} (and export it) or "
                                    + "${file:/path/to/secret}",
                            "description: 'by ${env:SRC_PASSWORD}' reads environment variable SRC_PASSWORD, but "
                                    + "${env:...} and ${file:...} are read only in credentials (source and target "
                                    + "password and secret-named properties), so that no environment value is stored, "
                                    + "shown or sent; write the value itself (and $${ for a literal ${)");
                });
    }

    @Test
    void refusesInputThatWouldHurtWhatReadsOrShowsItLater(@TempDir Path dir) throws Exception {
        assertThat(problems("{\"id\": null}")).containsExactly("id: missing; add id: a short name such as "
                + "orders-to-new-pg");
        assertThat(problems("{\"id\": \"x\", \"description\": \"" + "d".repeat(5000) + "\"}")).containsExactly(
                "description: '" + "d".repeat(40) + "...' is 5000 characters long; keep it to 4000 characters");
        assertThat(problems("{\"id\": \"x\", \"description\": \"red \\u001b[31m alert\"}")).containsExactly(
                "description: holds the control character U+001B at position 5; remove control characters (escape "
                        + "sequences would reach the terminals that show it)");
        StringBuilder unknown = new StringBuilder("{\"id\": \"x\"");
        for (int i = 0; i < 5000; i++) {
            unknown.append(", \"k").append(i).append("\": 1");
        }
        List<String> many = problems(unknown.append("}").toString());
        assertThat(many).hasSize(ManifestException.LISTED + 1);
        assertThat(many.get(ManifestException.LISTED)).isEqualTo("manifest: and 4900 more problems, not listed; fix "
                + "the ones above first");

        assertThatThrownBy(() -> reader.read("id: a\n---\nid: b\n", "two.yaml", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly("line 3: is in a second YAML document; a "
                                + "manifest is one document; remove the '---' and what follows, or put each "
                                + "migration in a file of its own"));
        assertThatThrownBy(() -> reader.read("id: x\ndescription: '" + "y".repeat(ManifestReader.MAX_CHARS) + "'\n",
                "big.yaml", ManifestReader.Purpose.DRAFT)).isInstanceOfSatisfying(ManifestException.class,
                        ex -> assertThat(ex.getMessage()).contains("kB long; a manifest is at most 1024 kB"));
        Path latin1 = dir.resolve("latin1.yaml");
        Files.write(latin1, "id: x\ndescription: caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> reader.read(latin1)).isInstanceOfSatisfying(ManifestException.class,
                ex -> assertThat(ex.getMessage()).contains("is not UTF-8 text; save the manifest as UTF-8")
                        .doesNotContain("Input length"));
    }

    private List<String> problems(String json) {
        ManifestException e = org.assertj.core.api.Assertions.catchThrowableOfType(ManifestException.class,
                () -> reader.read(json, "body", ManifestReader.Purpose.DRAFT));
        assertThat(e).as(json.length() > 80 ? json.substring(0, 80) : json).isNotNull();
        return e.details().stream().map(Problem::message).toList();
    }

    @Test
    void readsSeed002sCreateBodyAsADraftAndAsksForEndpointsToRun() {
        String body = resource("seeds/seed002-create.json");
        Manifest m = reader.read(body, "request", ManifestReader.Purpose.DRAFT);
        assertThat(m.id()).isEqualTo("migrate_to_new_redis");
        assertThat(m.isRunnable()).isFalse();
        assertThat(m.data().type()).isEqualTo(DataMovement.Type.SCAN);
        assertThat(m.failureHandling().type()).isEqualTo(FailureHandling.Type.ROLLBACK_ALL);

        assertThatThrownBy(() -> reader.read(body, "request", ManifestReader.Purpose.RUN))
                .isInstanceOfSatisfying(ManifestException.class, e -> assertThat(e.details())
                        .extracting(Problem::path).containsExactly("source", "target"));
    }

    @Test
    void readsAllNineStrategiesOfSeed002WithTheirParameters() {
        assertThat(strategy("{\"type\": \"big_bang\"}")).isEqualTo(new Strategy.BigBang());
        assertThat(strategy("{\"type\": \"canary\", \"read_percentage\": 0.05, \"write_mode\": {\"mode\": \"dual_write\", "
                + "\"policy\": \"old_authoritative\"}}")).isEqualTo(new Strategy.Canary(0.05,
                new WriteMode(WriteMode.Mode.DUAL_WRITE, WriteMode.Policy.OLD_AUTHORITATIVE, null)));
        assertThat(strategy("{\"type\": \"blue_green\", \"active_is_new\": false}")).isEqualTo(new Strategy.BlueGreen(false));
        assertThat(strategy("{\"type\": \"rolling_update\", \"migrated_instances\": [], \"total_instances\": 5}"))
                .isEqualTo(new Strategy.RollingUpdate(List.of(), 5, null));
        assertThat(strategy("{\"type\": \"shadow_traffic\"}")).isEqualTo(new Strategy.ShadowTraffic());
        assertThat(strategy("{\"type\": \"strangler_fig\", \"features\": {\"user_auth\": true, \"payments\": false, "
                + "\"reporting\": false}}")).isEqualTo(new Strategy.StranglerFig(Map.of("user_auth", true, "payments",
                false, "reporting", false), null));
        assertThat(strategy("{\"type\": \"feature_flag\", \"flags\": {\"new_database\": true, \"beta_features\": false}, "
                + "\"rollout_percentage\": 0.25}")).isEqualTo(new Strategy.FeatureFlag(Map.of("new_database", true,
                "beta_features", false), 0.25, null));
        assertThat(strategy("{\"type\": \"geographic\", \"regions\": {\"us-east-1\": true, \"eu-west-1\": false, "
                + "\"ap-southeast-1\": false}}")).isEqualTo(new Strategy.Geographic(Map.of("us-east-1", true,
                "eu-west-1", false, "ap-southeast-1", false), null));
        assertThat(strategy("{\"type\": \"time_window\", \"window_start\": \"2024-01-15T02:00:00Z\", "
                + "\"window_end\": \"2024-01-15T04:00:00Z\", \"executed\": false}")).isEqualTo(new Strategy.TimeWindow(
                Instant.parse("2024-01-15T02:00:00Z"), Instant.parse("2024-01-15T04:00:00Z"), false));
    }

    @Test
    void readsSeed002sCanaryRolloutStagesIncludingTheCutoverWriteMode() {
        for (double p : new double[] {0.05, 0.25, 0.75}) {
            assertThat(strategy("{\"type\": \"canary\", \"read_percentage\": " + p + ", \"write_mode\": {\"mode\": "
                    + "\"dual_write\", \"policy\": \"old_authoritative\"}}")).isEqualTo(new Strategy.Canary(p,
                    new WriteMode(WriteMode.Mode.DUAL_WRITE, WriteMode.Policy.OLD_AUTHORITATIVE, null)));
        }
        assertThat(strategy("{\"type\": \"canary\", \"read_percentage\": 1.0, \"write_mode\": {\"mode\": \"cutover\", "
                + "\"write_percentage\": 1.0}}")).isEqualTo(new Strategy.Canary(1.0,
                new WriteMode(WriteMode.Mode.CUTOVER, null, 1.0)));
    }

    @Test
    void readsSeed002sDataAndFailureHandlingShapes() {
        assertThat(draft("\"data\": \"none\"").data().type()).isEqualTo(DataMovement.Type.NONE);
        DataMovement snapshot = draft("\"data\": {\"type\": \"snapshot\", \"replace\": \"none\"}").data();
        assertThat(snapshot.type()).isEqualTo(DataMovement.Type.SNAPSHOT);
        assertThat(snapshot.replace()).isEqualTo(DataMovement.Replace.NONE);
        assertThat(draft("\"data\": {\"type\": \"scan\", \"replace\": \"merge\"}").data().replace())
                .isEqualTo(DataMovement.Replace.MERGE);

        assertThat(draft("\"failure_handling\": \"rollback_all\"").failureHandling())
                .isEqualTo(new FailureHandling(FailureHandling.Type.ROLLBACK_ALL, 0));
        assertThat(draft("\"failure_handling\": {\"type\": \"retry_then_all\", \"retry_count\": 3}").failureHandling())
                .isEqualTo(new FailureHandling(FailureHandling.Type.RETRY_THEN_ALL, 3));
        assertThat(draft("\"failure_handling\": \"allow_partial\"").failureHandling())
                .isEqualTo(new FailureHandling(FailureHandling.Type.ALLOW_PARTIAL, 0));
    }

    @Test
    void appliesDefaultsAnOperatorWouldExpect() {
        Manifest m = draft("\"description\": \"x\"");
        assertThat(m.type()).isEqualTo(MigrationType.INCREMENTAL);
        assertThat(m.cdc().method()).isEqualTo(Cdc.Method.AUTO);
        assertThat(m.schema()).isEqualTo(SchemaMode.CREATE);
        assertThat(m.data()).isEqualTo(DataMovement.DEFAULT);
        assertThat(m.strategy()).isEqualTo(new Strategy.BigBang());
        assertThat(m.failureHandling()).isEqualTo(FailureHandling.DEFAULT);
        assertThat(m.scope()).isEqualTo(Scope.ALL);
    }

    @Test
    void fullTypeFollowsFromNoChangeCaptureAndInitialLoadSkipMeansNoData() {
        assertThat(draft("\"cdc\": {\"method\": \"none\"}").type()).isEqualTo(MigrationType.FULL);
        assertThat(draft("\"migration\": {\"initial_load\": \"skip\"}").data().moves()).isFalse();
        assertThat(draft("\"initial_load\": {\"enabled\": false}").data().moves()).isFalse();
    }

    @Test
    void readsTheApplyModeAndRefusesSourceTransactionsForTimestampPolling() {
        assertThat(draft("\"cdc\": {\"apply\": \"source_transactions\"}").cdc().apply())
                .isEqualTo(Cdc.Apply.SOURCE_TRANSACTIONS);
        assertThat(draft("\"cdc\": {\"method\": \"logical_replication\"}").cdc().apply())
                .isEqualTo(Cdc.Apply.GROUP_COMMIT);
        assertThatThrownBy(() -> draft("\"cdc\": {\"method\": \"timestamp_column\", \"timestamp_column\": \"ts\", "
                + "\"apply\": \"source_transactions\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly("cdc.apply: 'source_transactions' needs a change "
                                + "log that records the source's transactions, but timestamp_column polling sees rows "
                                + "only; use cdc.apply: group_commit, or a log-based cdc.method"));
        assertThatThrownBy(() -> draft("\"cdc\": {\"apply\": \"per_txn\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly("cdc.apply: 'per_txn' is unknown; expected one of "
                                + "group_commit, source_transactions"));
    }

    @Test
    void readsOnSchemaChangeAndRefusesWhatIsNotBuilt() {
        assertThat(draft("\"cdc\": {\"on_schema_change\": \"apply\", \"schema_check_interval\": \"5s\"}").cdc())
                .satisfies(c -> {
                    assertThat(c.onSchemaChange()).isEqualTo(Cdc.OnSchemaChange.APPLY);
                    assertThat(c.schemaCheckInterval()).isEqualTo(Duration.ofSeconds(5));
                });
        assertThat(draft("\"cdc\": {\"method\": \"logical_replication\"}").cdc().onSchemaChange())
                .isEqualTo(Cdc.OnSchemaChange.STOP);
        assertThatThrownBy(() -> draft("\"cdc\": {\"apply\": \"source_transactions\", \"on_schema_change\": "
                + "\"apply\", \"schema_check_interval\": \"100ms\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly(
                                "cdc.schema_check_interval: '100ms' is under a second; compare the catalogs at most "
                                        + "once a second (default 30s)",
                                "cdc.on_schema_change: 'apply' is not built for cdc.apply: source_transactions (a "
                                        + "target ALTER would have to join the open source transaction); use "
                                        + "on_schema_change: stop (the default) and alter the target yourself, or "
                                        + "cdc.apply: group_commit"));
        assertThatThrownBy(() -> draft("\"cdc\": {\"method\": \"timestamp_column\", \"timestamp_column\": \"ts\", "
                + "\"on_schema_change\": \"apply\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).singleElement().asString()
                        .startsWith("cdc.on_schema_change: 'apply' is not built for timestamp_column polling"));
        assertThatThrownBy(() -> draft("\"cdc\": {\"apply\": \"source_transactions\", \"reconnect_timeout\": "
                + "\"2m\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).singleElement().asString()
                        .startsWith("cdc.reconnect_timeout: '2m' has no effect with cdc.apply: source_transactions"));
        assertThatThrownBy(() -> draft("\"cdc\": {\"on_schema_change\": \"ignore\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly("cdc.on_schema_change: 'ignore' is unknown; "
                                + "expected one of stop, apply, abort"));
    }

    @Test
    void readsSchemaAsAModeOrAMapOfTypeChoices() {
        assertThat(draft("\"schema\": \"existing\"").types()).isEqualTo(ColumnTypes.DEFAULT);
        Manifest m = reader.read(String.join("\n", "id: t", "schema:", "  mode: existing", "  zero_dates: as_null",
                "  columns:", "    - {table: shop.kinds, column: flag, type: smallint}",
                "    - {table: kinds, column: j, type: ' json '}", ""), "test", ManifestReader.Purpose.DRAFT);
        assertThat(m.schema()).isEqualTo(SchemaMode.EXISTING);
        assertThat(m.types().zeroDates()).isEqualTo(ColumnTypes.ZeroDates.AS_NULL);
        assertThat(m.types().columns()).containsExactly(new ColumnTypes.Column("shop.kinds", "flag", "smallint"),
                new ColumnTypes.Column("kinds", "j", "json"));
        assertThat(m.types().column("shop", "kinds", "flag")).map(ColumnTypes.Column::type).hasValue("smallint");
        assertThat(m.types().column("shop", "kinds", "j")).map(ColumnTypes.Column::type).hasValue("json");
        assertThat(m.types().column("other", "kinds", "flag")).isEmpty();
        assertThat(draft("\"schema\": {\"zero_dates\": \"as_null\"}").schema()).isEqualTo(SchemaMode.CREATE);

        assertThatThrownBy(() -> reader.read(String.join("\n", "id: t", "schema:", "  zero_dates: null",
                "  columns:", "    - {table: a.b.c, column: x, type: int}", "    - {table: t, column: x}",
                "    - {table: t, column: y, type: int, cast: x}", "    - {table: t, column: y, type: bigint}",
                "  mod: create", ""), "test", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).containsExactly(
                                "schema.zero_dates: null is YAML's empty value, not a choice; write zero_dates: "
                                        + "as_null to write zero dates as NULL, or refuse (the default into "
                                        + "PostgreSQL)",
                                "schema.columns[0].table: 'a.b.c' is not a table name; write schema.table or table",
                                "schema.columns[1].type: missing; write the PostgreSQL type to make the column as, "
                                        + "such as smallint",
                                "schema.columns[2].cast: is not a known key of schema.columns[2]; expected one of "
                                        + "table, column, type",
                                "schema.columns[3]: 't.y' is listed twice; keep one entry per column",
                                "schema.mod: is not a known key of schema; did you mean mode?"));
        assertThatThrownBy(() -> draft("\"schema\": {\"zero_dates\": \"null\"}"))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details())
                        .extracting(Problem::message).singleElement().asString()
                        .startsWith("schema.zero_dates: 'null' is unknown"));
    }

    @Test
    void readsSeed001sMigrationIdAndPhases() {
        ManifestDocument doc = reader.document("{\"migration_id\": \"orders\", \"phases\": [\"prepare\", "
                + "\"backfill\", \"dual_write\", \"cutover\", \"cleanup\"]}", "seed001",
                ManifestReader.Purpose.DRAFT);
        assertThat(doc.manifest().id()).isEqualTo("orders");
        assertThat(doc.document().has("migration_id")).as("stored with one name for the id").isFalse();
        assertThat(doc.document().path("id").asText()).isEqualTo("orders");
        assertThat(doc.manifest().phases().wire()).containsExactly("prepare", "backfill", "catch_up", "cutover",
                "cleanup");
        assertThat(doc.manifest().phases().includes("shadow")).isFalse();
        assertThat(doc.manifest().cdc().enabled()).isTrue();

        Manifest copyOnly = draft("\"phases\": [\"backfill\"]");
        assertThat(copyOnly.cdc().enabled()).as("no catch_up: no change capture").isFalse();
        assertThat(copyOnly.type()).isEqualTo(MigrationType.FULL);
        assertThat(copyOnly.data().moves()).isTrue();
        assertThat(copyOnly.phases().wire()).containsExactly("prepare", "backfill");

        Manifest streamOnly = draft("\"phases\": [\"prepare\", \"catch_up\", \"cutover\", \"cleanup\"]");
        assertThat(streamOnly.data().moves()).as("no backfill: data none").isFalse();
        assertThat(streamOnly.cdc().enabled()).isTrue();
        assertThat(draft("\"migration_id\": \"t\"").id()).isEqualTo("t");
        assertThat(draft("\"schema\": \"create\"").phases()).isEqualTo(Phases.ALL);

        assertThat(problems("{\"id\": \"t\", \"phases\": [\"backfill\", \"catch_up\"], \"cdc\": {\"method\": "
                + "\"none\"}}")).containsExactly("phases: [prepare, backfill, catch_up] has catch_up, but change "
                + "capture is off (cdc.method none or type full); set cdc.method (auto streams the source's change log)");
        assertThat(problems("{\"id\": \"t\", \"phases\": [\"backfill\", \"cutover\", \"cleanup\"]}"))
                .containsExactly("phases: [prepare, backfill, cutover, cleanup] has cutover without catch_up: a "
                        + "cutover needs the change stream (writes made during the copy reach the target only through "
                        + "it); add catch_up, or leave out cutover and cleanup");
        assertThat(problems("{\"id\": \"t\", \"conflict_resolution\": {\"default\": \"source_wins\", "
                + "\"merge_class\": \"a.B\"}}")).containsExactly("conflict_resolution.merge_class: 'a.B' is used "
                + "only by strategy custom, which neither the default nor an override without its own merge_class "
                + "uses; remove merge_class, or set default: custom");
    }

    @Test
    void neverShowsASecretInToStringOrInAProblem() {
        Manifest m = reader.read(resource("seeds/design-example.yaml"), "design", ManifestReader.Purpose.RUN);
        assertThat(m.toString()).doesNotContain("s3cret").contains(Secret.REDACTED);
        Endpoint e = new Endpoint("jdbc:postgresql://h/db?user=u&password=hunter2", "u", Secret.of("hunter2"),
                Map.of("sslpassword", "hunter3", "ssl", "true"));
        assertThat(e.toString()).doesNotContain("hunter").contains("ssl=true");

        String bad = "{\"id\": \"x\", \"source\": {\"url\": \"jdbc:postgresql://h/db\", \"password\": 42, \"usr\": \"a\"}}";
        assertThatThrownBy(() -> reader.read(bad, "request", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.getMessage())
                        .doesNotContain("42").contains("source.usr: is not a known key of source; did you mean user?"));
    }

    @Test
    void showsAnInterpolatedValueAsWrittenAndNamesAMissingVariable() {
        String text = "{\"id\": \"x\", \"source\": {\"password\": \"${env:SRC_PASSWORD}x\"}, "
                + "\"target\": {\"password\": \"${env:NOT_SET}\"}}";
        assertThatThrownBy(() -> reader.read(text, "request", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> {
                    assertThat(ex.getMessage()).doesNotContain("s3cret");
                    assertThat(ex.details()).extracting(Problem::message).contains(
                            "source.url: missing; add url: jdbc:postgresql://host:5432/db or "
                                    + "jdbc:mariadb://host:3306/db",
                            "target.password: '${env:NOT_SET}' uses environment variable NOT_SET, which is not set; "
                                    + "export NOT_SET before running tandem");
                });
    }

    @Test
    void reportsAllFiveMistakesOfAManifestAtOnce() {
        String text = String.join("\n",
                "id: five-mistakes",
                "source: {url: 'jdbc:postgresql://a/db'}",
                "target: {url: 'postgres://b/db'}",
                "strategy: {type: canary, read_percentage: 1.5}",
                "data: {type: scan, chunk_rows: 0}",
                "failure_handling: {type: rollback_all, retry_count: 3}",
                "validaton: {mode: checksum}");
        assertThatThrownBy(() -> reader.read(text, "m.yaml", ManifestReader.Purpose.RUN))
                .isInstanceOfSatisfying(ManifestException.class, ex -> {
                    assertThat(ex.code()).isEqualTo(ErrorCode.BAD_INPUT);
                    assertThat(ex.details()).extracting(Problem::message).containsExactlyInAnyOrder(
                            "target.url: 'postgres://b/db' is not a JDBC URL; use jdbc:postgresql://host:5432/db or "
                                    + "jdbc:mariadb://host:3306/db",
                            "strategy.read_percentage: 1.5 is out of range; use 0.0 to 1.0",
                            "data.chunk_rows: 0 is out of range; use 1 to 100000000",
                            "failure_handling.retry_count: 3 only applies to retry_then_all; remove retry_count or set "
                                    + "type: retry_then_all",
                            "validaton: is not a known key of the manifest; did you mean validation?");
                    assertThat(ex.getMessage()).startsWith("m.yaml has 5 problems:");
                });
    }

    @Test
    void reportsASyntaxErrorWithItsLineAndColumnNeverAStackTrace() {
        assertThatThrownBy(() -> reader.read("id: x\nstrategy: {type: canary\n", "m.yaml", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> {
                    assertThat(ex.details()).hasSize(1);
                    assertThat(ex.details().get(0).path()).startsWith("line ");
                    assertThat(ex.details().get(0).rule()).startsWith("is not valid YAML");
                });
        assertThatThrownBy(() -> reader.read("{\"id\": \"x\", \"id\": \"y\"}", "body", ManifestReader.Purpose.DRAFT))
                .isInstanceOfSatisfying(ManifestException.class, ex -> assertThat(ex.details().get(0).rule())
                        .contains("is not valid JSON").contains("Duplicate field 'id'"));
    }

    private Strategy strategy(String json) {
        return draft("\"strategy\": " + json).strategy();
    }

    private Manifest draft(String fields) {
        return reader.read("{\"id\": \"t\", " + fields + "}", "test", ManifestReader.Purpose.DRAFT);
    }

    static String resource(String name) {
        try (InputStream in = ManifestReaderTest.class.getResourceAsStream("/manifests/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
