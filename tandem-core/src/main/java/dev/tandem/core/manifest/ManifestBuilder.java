package dev.tandem.core.manifest;

import static dev.tandem.core.manifest.Section.keys;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One pass over one manifest document, for {@link ManifestReader}: the identity, the endpoints, what moves and how
 * (scope, schema, data, change data capture, conflict resolution, continuous), every problem noted in the
 * {@link Reading} instead of thrown; the policies (strategy, validation, thresholds, failure handling, alerts) are
 * read by {@link PolicySections}.
 */
final class ManifestBuilder {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    static final Set<String> TOP = keys("id", "description", "source", "target", "scope", "schema", "data",
            "migration", "type", "initial_load", "cdc", "conflict_resolution", "continuous", "strategy", "validation",
            "abort_thresholds", "failure_handling", "alerting", "apis", "interlays", "migration_id", "phases", "metrics");
    static final Set<String> MIGRATION = keys("type", "initial_load", "cdc", "conflict_resolution", "continuous");
    static final Set<String> ENDPOINT = keys("url", "user", "password", "properties");
    static final Set<String> SCOPE = keys("tables", "include", "exclude");
    static final Set<String> DATA = keys("type", "replace", "chunk_rows", "parallelism", "rows_per_second");
    static final Set<String> INITIAL_LOAD = keys("enabled");
    static final Set<String> CDC = keys("method", "timestamp_column", "poll_interval", "heartbeat_interval",
            "overlap_window", "apply", "conflict_resolution", "reconnect_timeout", "on_schema_change",
            "schema_check_interval");
    static final Set<String> CONTINUOUS = keys("enabled", "stop_when");
    static final Set<String> SCHEMA = keys("mode", "zero_dates", "columns");
    static final Set<String> SCHEMA_COLUMN = keys("table", "column", "type");

    private final Reading reading;
    /** Source and target are required (a run), not only allowed (a draft). */
    private final boolean endpointsRequired;
    private final PolicySections policies;

    /** What the store keeps of a description (tandem_migrations.description). */
    static final int DESCRIPTION_MAX = 4000;

    ManifestBuilder(Reading reading, boolean endpointsRequired) {
        this.reading = reading;
        this.endpointsRequired = endpointsRequired;
        this.policies = new PolicySections(reading);
    }

    Manifest build(JsonNode tree) {
        Section root = Section.of(tree, "", reading, "write the manifest as a map of keys", TOP);
        String id = root.requiredText("id", "add id: a short name such as orders-to-new-pg");
        if (root.has("migration_id")) {
            // ManifestReader.seed001Id made an equal or lone migration_id the id: this one differs from id
            reading.problem("migration_id", "'" + root.text("migration_id") + "'", "differs from id '" + id + "' "
                    + "(migration_id is seed 001's name for id)", "keep one of them");
        }
        root.skip("migration_id");
        if (root.has("metrics")) {
            reading.problem("metrics", null, "is not a setting: every figure (lag, drift, error "
                    + "rate, copy progress, shadow mismatches) is measured and exported whatever the manifest says, "
                    + "at GET /metrics (Prometheus), in tandem status and GET .../status", "remove metrics; to act on "
                    + "a figure write alerting.rules (such as {name: lag, condition: lag_seconds > 60}) or "
                    + "abort_thresholds");
        }
        if (id != null && !ID.matcher(id).matches()) {
            reading.problem("id", "'" + id + "'", "is not a valid id",
                    "use 1 to 63 letters, digits, '_', '-' or '.', starting with a letter or digit");
        }
        String description = root.text("description");
        if (description != null && description.length() > DESCRIPTION_MAX) {
            reading.problem("description", "'" + description.substring(0, 40) + "...'", "is "
                    + description.length() + " characters long", "keep it to " + DESCRIPTION_MAX + " characters");
            description = null;
        }
        Endpoint source = endpoint(root, "source");
        Endpoint target = endpoint(root, "target");
        if (source != null && target != null && source.url() != null && source.url().equals(target.url())) {
            reading.problem("target.url", "'" + target.displayUrl() + "'", "is the same as source.url",
                    "point target at the new database");
        }
        Scope scope = scope(root);
        SchemaSection schemaSection = schema(root);
        SchemaMode schema = schemaSection.mode();
        ColumnTypes types = schemaSection.types();

        Phases phases = phases(root);
        Section migration = root.section("migration", "write migration: as a map (seed 000's block)", MIGRATION);
        Located typeAt = locate(root, migration, "type");
        MigrationType declaredType = typeAt == null ? null
                : typeAt.owner.enumOf("type", MigrationType.class, null);

        Located cdcAt = locate(root, migration, "cdc");
        Section cdcSection = cdcAt == null ? null
                : cdcAt.owner.section("cdc", "write cdc: as a map with method", CDC);
        Cdc cdc = cdc(cdcSection, declaredType, source, phases);

        MigrationType type = declaredType != null ? declaredType
                : cdc.enabled() ? MigrationType.INCREMENTAL : MigrationType.FULL;
        if (declaredType == MigrationType.INCREMENTAL && cdcSection != null && !cdc.enabled()) {
            reading.problem(typeAt.path, "'incremental'", "needs change data capture, but cdc.method is none",
                    "set cdc.method to auto, or type: full");
        }

        DataMovement data = data(root, migration, phases);
        agree(phases, data, cdc, cdcSection);
        ConflictResolution conflicts = conflictResolution(root, migration, cdcSection, cdc);
        Continuous continuous = continuous(root, migration);
        if (cdcSection != null) {
            cdcSection.finish();
        }
        if (migration != null) {
            migration.finish();
        }
        Strategy strategy = policies.strategy(root);
        Validation validation = policies.validation(root);
        AbortThresholds abort = policies.abortThresholds(root);
        FailureHandling failure = policies.failureHandling(root);
        Alerting alerting = policies.alerting(root);
        List<String> apis = resources(tree, root, "apis", "id");
        List<String> interlays = resources(tree, root, "interlays", "endpoint");
        root.finish();
        return new Manifest(id, description, source, target, scope, schema, types, type, data, cdc, conflicts,
                continuous,
                strategy, validation, abort, failure, alerting, phases, apis, interlays);
    }

    /** Seed 001's {@code phases} (see {@link Phases}); every phase when absent. */
    private Phases phases(Section root) {
        List<String> given = root.textList("phases");
        if (given == null) {
            return Phases.ALL;
        }
        List<String> out = new ArrayList<>(List.of("prepare"));
        int last = 0;
        for (int i = 0; i < given.size(); i++) {
            String name = Phases.canonical(given.get(i));
            int at = Phases.NAMES.indexOf(name);
            String path = "phases[" + i + "]";
            if (at < 0) {
                reading.problem(path, "'" + given.get(i) + "'", "is not a phase",
                        DidYouMean.hint(given.get(i), Phases.NAMES) + " (seed 001's dual_write and shadow_read are "
                        + "read as catch_up and shadow)");
            } else if (at == 0 && i == 0) {
                continue;
            } else if (at <= last) {
                reading.problem(path, "'" + given.get(i) + "'", out.contains(name) ? "is listed twice"
                        : "comes after " + out.get(out.size() - 1), "list the phases in their order: "
                        + String.join(", ", Phases.NAMES));
            } else {
                out.add(name);
                last = at;
            }
        }
        if (out.contains("cutover") != out.contains("cleanup")) {
            reading.problem("phases", "[" + String.join(", ", given) + "]", out.contains("cutover")
                    ? "has cutover without cleanup, which ends a cut-over migration (it drops the reverse stream "
                    + "kept for a rollback)" : "has cleanup without cutover, which it follows",
                    "list both cutover and cleanup, or neither (a migration that copies and streams only)");
        }
        return new Phases(out);
    }

    /** {@code phases} and the keys that say what moves tell the same story. */
    private void agree(Phases phases, DataMovement data, Cdc cdc, Section cdcSection) {
        if (phases == Phases.ALL) {
            return;
        }
        if (phases.includes("backfill") != data.moves()) {
            reading.problem("phases", "[" + String.join(", ", phases.wire()) + "]", phases.includes("backfill")
                    ? "has backfill, but data is none" : "leaves out backfill, but data copies rows (data.type "
                    + Enums.wire(data.type()) + ")", phases.includes("backfill") ? "remove data: none, or backfill "
                    + "from phases" : "set data: none, or add backfill to phases");
        }
        if (phases.includes("catch_up") != cdc.enabled()) {
            reading.problem("phases", "[" + String.join(", ", phases.wire()) + "]", phases.includes("catch_up")
                    ? "has catch_up, but change capture is off (cdc.method none or type full)"
                    : "leaves out catch_up, but cdc.method " + Enums.wire(cdc.method()) + " streams changes",
                    phases.includes("catch_up") ? "set cdc.method (auto streams the source's change log)"
                            : "set cdc: {method: none} (type full), or add catch_up to phases");
        }
        if (phases.includes("cutover") && !phases.includes("catch_up")) {
            reading.problem("phases", "[" + String.join(", ", phases.wire()) + "]", "has cutover without catch_up: a "
                    + "cutover needs the change stream (writes made during the copy reach the target only through it)",
                    "add catch_up, or leave out cutover and cleanup");
        }
    }

    /**
     * Seed 002's sub-resources added to a migration ({@code POST /migrations/{id}/api/{api_id}} and
     * {@code /interlay/{interlay_id}}): kept with the manifest as lists of objects, each with an {@code id} and
     * the field that resource needs. Returned: that field of each (see {@link Manifest#apis},
     * {@link Manifest#interlays} for what they do).
     */
    private List<String> resources(JsonNode tree, Section root, String key, String required) {
        JsonNode list = tree == null ? null : tree.get(key);
        root.skip(key);
        List<String> out = new ArrayList<>();
        if (list == null || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            reading.problem(key, null, "is not a list", "write " + key + ": [{id: ..., " + required + ": ...}]");
            return out;
        }
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).path(required).isTextual()) {
                out.add(list.get(i).path(required).asText());
            }
            JsonNode item = list.get(i);
            for (String field : new LinkedHashSet<>(List.of("id", required))) {
                if (!item.isObject() || !item.path(field).isTextual() || item.path(field).asText().isBlank()) {
                    reading.problem(key + "[" + i + "]." + field, null, "missing",
                            "give each of " + key + " an " + field + " (text)");
                }
            }
        }
        return out;
    }

    /** Where a seed-000 key was given: in the migration block or at the top level, never both. */
    private record Located(Section owner, String path) {
    }

    private Located locate(Section root, Section migration, String key) {
        boolean inBlock = migration != null && migration.has(key);
        boolean atTop = root.has(key);
        if (inBlock && atTop) {
            reading.problem(migration.pathOf(key), null, "is also given at the top level as " + key,
                    "keep only one of them");
            root.skip(key);
        }
        if (inBlock) {
            return new Located(migration, migration.pathOf(key));
        }
        return atTop ? new Located(root, key) : null;
    }

    private Endpoint endpoint(Section root, String key) {
        if (!root.has(key)) {
            root.skip(key);
            if (endpointsRequired) {
                reading.problem(key, null, "missing", "add " + key + ": {url: jdbc:postgresql://host:5432/db, "
                        + "user: migrator, password: ${env:" + key.toUpperCase() + "_PASSWORD}}");
            }
            return null;
        }
        Section s = root.section(key, "write " + key + ": {url, user, password}", ENDPOINT);
        String url = s.requiredText("url", "add url: jdbc:postgresql://host:5432/db or jdbc:mariadb://host:3306/db");
        if (url != null && JdbcUrls.subprotocol(url) == null) {
            reading.problem(s.pathOf("url"), "'" + JdbcUrls.redact(url) + "'", "is not a JDBC URL",
                    "use jdbc:postgresql://host:5432/db or jdbc:mariadb://host:3306/db");
        }
        if (url != null && !JdbcUrls.redact(url).equals(url)) {
            reading.problem(s.pathOf("url"), "'" + JdbcUrls.redact(url) + "'", "holds a password, which would be "
                    + "stored with the migration in plain text", "take it out of the URL and write "
                    + key + ".password: ${env:" + key.toUpperCase() + "_PASSWORD}");
        }
        String user = s.text("user");
        Secret password = s.secret("password");
        literalSecret(s.pathOf("password"), password == null ? null : password.reveal(), key);
        Map<String, String> properties = new LinkedHashMap<>();
        JsonNode props = s.get("properties");
        if (props != null) {
            if (!props.isObject()) {
                reading.problemAt(s.pathOf("properties"), props, "is not a map", "write driver properties as a map");
            } else {
                props.properties().forEach(e -> {
                    String at = s.pathOf("properties") + "." + e.getKey();
                    if (Endpoint.isSecretKey(e.getKey())) {
                        reading.markSecret(at);
                    }
                    if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                        reading.problemAt(at, e.getValue(), "is not a single value", "write it as text");
                    } else {
                        properties.put(e.getKey(), e.getValue().asText());
                        if (Endpoint.isSecretKey(e.getKey())) {
                            literalSecret(at, e.getValue().asText(), key);
                        }
                    }
                });
            }
        }
        s.finish();
        return new Endpoint(url, user, password, properties);
    }

    /**
     * A secret written as itself would be stored with the migration (the control store keeps the manifest as
     * written) and so sit in plain text beside it: refused. An empty one is no secret.
     */
    private void literalSecret(String path, String value, String endpoint) {
        if (value != null && !value.isEmpty() && !reading.interpolated(path)) {
            reading.problem(path, Secret.REDACTED, "is written as itself, and would be stored with the migration in "
                    + "plain text", "write ${env:" + endpoint.toUpperCase() + "_PASSWORD} (and export it) or "
                    + "${file:/path/to/secret}");
        }
    }

    private Scope scope(Section root) {
        Section s = root.section("scope", "write scope: {tables: [...]} or {include: [...], exclude: [...]}", SCOPE);
        if (s == null) {
            return Scope.ALL;
        }
        List<String> tables = orEmpty(s.textList("tables"));
        List<String> include = orEmpty(s.textList("include"));
        List<String> exclude = orEmpty(s.textList("exclude"));
        if (!tables.isEmpty() && !include.isEmpty()) {
            reading.problem(s.pathOf("include"), null, "cannot be combined with scope.tables",
                    "list the tables, or use include/exclude patterns, not both");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < tables.size(); i++) {
            String t = tables.get(i);
            if (t.contains("*")) {
                reading.problem(s.pathOf("tables") + "[" + i + "]", "'" + t + "'", "is a pattern",
                        "move patterns to scope.include");
            } else if (!seen.add(t)) {
                reading.problem(s.pathOf("tables") + "[" + i + "]", "'" + t + "'", "is listed twice",
                        "remove the duplicate");
            }
            if (t.split("\\.", -1).length > 2 || t.startsWith(".") || t.endsWith(".")) {
                reading.problem(s.pathOf("tables") + "[" + i + "]", "'" + t + "'", "is not a table name",
                        "write schema.table or table");
            }
        }
        s.finish();
        return new Scope(tables, include, exclude);
    }

    /**
     * {@code schema: create} (or {@code existing}), or {@code schema: {mode, zero_dates, columns: [{table, column,
     * type}]}}. YAML reads {@code zero_dates: null} as no value at all, so an explicit null is said, not taken for
     * the default.
     */
    private SchemaSection schema(Section root) {
        JsonNode v = root.get("schema");
        if (v == null) {
            return new SchemaSection(SchemaMode.CREATE, ColumnTypes.DEFAULT);
        }
        if (v.isTextual()) {
            return new SchemaSection(root.enumValue("schema", v, SchemaMode.class, SchemaMode.CREATE),
                    ColumnTypes.DEFAULT);
        }
        Section s = Section.of(v, "schema", reading, "write schema: create, or {mode: create, zero_dates: as_null, "
                + "columns: [{table, column, type}]}", SCHEMA);
        SchemaMode mode = s.enumOf("mode", SchemaMode.class, SchemaMode.CREATE);
        ColumnTypes.ZeroDates zeroDates = null;
        if (v.isObject() && v.has("zero_dates") && v.get("zero_dates").isNull()) {
            s.skip("zero_dates");
            reading.problem(s.pathOf("zero_dates"), "null", "is YAML's empty value, not a choice",
                    "write zero_dates: as_null to write zero dates as NULL, or refuse (the default into PostgreSQL)");
        } else {
            zeroDates = s.enumOf("zero_dates", ColumnTypes.ZeroDates.class, null);
        }
        List<ColumnTypes.Column> columns = new ArrayList<>();
        List<JsonNode> list = s.list("columns");
        Set<String> seen = new HashSet<>();
        for (int i = 0; list != null && i < list.size(); i++) {
            String p = s.pathOf("columns") + "[" + i + "]";
            Section c = Section.of(list.get(i), p, reading, "write {table, column, type}", SCHEMA_COLUMN);
            String table = c.requiredText("table", "name the column's table: schema.table or table");
            String column = c.requiredText("column", "name the column as the source has it");
            String type = c.requiredText("type", "write the PostgreSQL type to make the column as, such as smallint");
            c.finish();
            if (table != null && (table.split("\\.", -1).length > 2 || table.startsWith(".") || table.endsWith("."))) {
                reading.problem(c.pathOf("table"), "'" + table + "'", "is not a table name", "write schema.table or "
                        + "table");
                continue;
            }
            if (table != null && column != null && !seen.add(table + "\0" + column)) {
                reading.problem(p, "'" + table + "." + column + "'", "is listed twice", "keep one entry per column");
                continue;
            }
            if (table != null && column != null && type != null) {
                columns.add(new ColumnTypes.Column(table, column, type.trim()));
            }
        }
        s.finish();
        return new SchemaSection(mode, new ColumnTypes(zeroDates, columns));
    }

    private record SchemaSection(SchemaMode mode, ColumnTypes types) {
    }

    private Cdc cdc(Section s, MigrationType declaredType, Endpoint source, Phases phases) {
        if (s == null) {
            boolean none = declaredType == MigrationType.FULL
                    || declaredType == null && !phases.includes("catch_up");
            return none ? Cdc.NONE : Cdc.AUTO;
        }
        Cdc.Method method = s.enumOf("method", Cdc.Method.class, Cdc.Method.AUTO);
        String tsColumn = s.text("timestamp_column");
        Duration poll = s.duration("poll_interval", Cdc.DEFAULT_POLL_INTERVAL);
        Duration heartbeat = s.duration("heartbeat_interval", Cdc.DEFAULT_HEARTBEAT_INTERVAL);
        Duration overlap = s.duration("overlap_window", Cdc.DEFAULT_OVERLAP_WINDOW);
        Cdc.Apply apply = s.enumOf("apply", Cdc.Apply.class, Cdc.Apply.GROUP_COMMIT);
        Duration reconnect = s.duration("reconnect_timeout", Cdc.DEFAULT_RECONNECT_TIMEOUT);
        Cdc.OnSchemaChange onSchemaChange = s.enumOf("on_schema_change", Cdc.OnSchemaChange.class,
                Cdc.OnSchemaChange.STOP);
        Duration schemaCheck = s.duration("schema_check_interval", Cdc.DEFAULT_SCHEMA_CHECK_INTERVAL);
        if (schemaCheck.compareTo(Duration.ofSeconds(1)) < 0) {
            reading.problemAt(s.pathOf("schema_check_interval"), s.get("schema_check_interval"), "is under a "
                    + "second", "compare the catalogs at most once a second (default 30s)");
        }
        if (apply == Cdc.Apply.SOURCE_TRANSACTIONS && s.get("reconnect_timeout") != null) {
            reading.problemAt(s.pathOf("reconnect_timeout"), s.get("reconnect_timeout"), "has no effect with "
                    + "cdc.apply: source_transactions (a stream that keeps source transactions is not restarted in "
                    + "place: the part of a transaction already written would be written twice; it fails and "
                    + "resumes from its confirmed position with tandem migrate)", "remove reconnect_timeout, or use "
                    + "cdc.apply: group_commit");
        }
        if (onSchemaChange == Cdc.OnSchemaChange.APPLY && method == Cdc.Method.TIMESTAMP_COLUMN) {
            reading.problem(s.pathOf("on_schema_change"), "'apply'", "is not built for timestamp_column polling "
                    + "(the poller reads the columns it started with, so a column added to both sides would stay "
                    + "empty on the target until a restart)", "use on_schema_change: stop (the default): the "
                    + "migration pauses, you alter the target, and tandem resume polls the new columns");
        }
        if (onSchemaChange == Cdc.OnSchemaChange.APPLY && apply == Cdc.Apply.SOURCE_TRANSACTIONS) {
            reading.problem(s.pathOf("on_schema_change"), "'apply'", "is not built for cdc.apply: "
                    + "source_transactions (a target ALTER would have to join the open source transaction)",
                    "use on_schema_change: stop (the default) and alter the target yourself, or cdc.apply: "
                    + "group_commit");
        }
        if (method == Cdc.Method.TIMESTAMP_COLUMN && apply == Cdc.Apply.SOURCE_TRANSACTIONS) {
            reading.problem(s.pathOf("apply"), "'source_transactions'", "needs a change log that records the "
                    + "source's transactions, but timestamp_column polling sees rows only",
                    "use cdc.apply: group_commit, or a log-based cdc.method");
        }
        if (method == Cdc.Method.TIMESTAMP_COLUMN) {
            s.requirePresent("timestamp_column", tsColumn,
                    "timestamp_column polling needs the column every write sets, such as updated_at");
        }
        if (declaredType == MigrationType.FULL && method != Cdc.Method.NONE) {
            reading.problem(s.pathOf("method"), "'" + Enums.wire(method) + "'", "captures changes, but type is full",
                    "set type: incremental, or cdc.method: none");
        }
        Engine engine = source == null ? null : Engine.ofUrl(source.url()).orElse(null);
        if (engine != null) {
            boolean postgres = engine == Engine.POSTGRESQL;
            boolean mysql = engine.mysqlFamily();
            if (method == Cdc.Method.BINLOG && postgres) {
                reading.problem(s.pathOf("method"), "'binlog'", "needs a MySQL or MariaDB source, but the source "
                        + "is PostgreSQL", "use logical_replication or auto");
            } else if (method == Cdc.Method.LOGICAL_REPLICATION && mysql) {
                reading.problem(s.pathOf("method"), "'logical_replication'", "needs a PostgreSQL source, but the "
                        + "source is " + engine.wire(), "use binlog or auto");
            }
        }
        return new Cdc(method, tsColumn, poll, heartbeat, overlap, apply, reconnect, onSchemaChange, schemaCheck);
    }

    private DataMovement data(Section root, Section migration, Phases phases) {
        Located initialAt = locate(root, migration, "initial_load");
        Boolean initialLoad = initialAt == null ? null : initialLoad(initialAt);
        JsonNode v = root.get("data");
        DataMovement data;
        if (v == null) {
            data = initialLoad == null && !phases.includes("backfill") ? DataMovement.NONE : DataMovement.DEFAULT;
        } else if (v.isTextual()) {
            DataMovement.Type t = root.enumValue("data", v, DataMovement.Type.class, DataMovement.Type.SCAN);
            data = new DataMovement(t, DataMovement.Replace.REPLACE, DataMovement.DEFAULT_CHUNK_ROWS,
                    DataMovement.DEFAULT_PARALLELISM, 0);
        } else {
            Section s = Section.of(v, "data", reading, "write data: \"none\" or {type, replace}", DATA);
            DataMovement.Type t = s.enumOf("type", DataMovement.Type.class, DataMovement.Type.SCAN);
            DataMovement.Replace r = s.enumOf("replace", DataMovement.Replace.class, DataMovement.Replace.REPLACE);
            long chunkRows = s.integer("chunk_rows", 1, 100_000_000, (long) DataMovement.DEFAULT_CHUNK_ROWS);
            long parallelism = s.integer("parallelism", 1, 256, (long) DataMovement.DEFAULT_PARALLELISM);
            long rps = s.integer("rows_per_second", 0, Long.MAX_VALUE, 0L);
            s.finish();
            data = new DataMovement(t, r, (int) chunkRows, (int) parallelism, rps);
        }
        if (initialLoad != null && !initialLoad) {
            if (v != null && data.moves()) {
                reading.problem(initialAt.path, "'skip'", "contradicts data.type " + Enums.wire(data.type()),
                        "keep initial_load enabled, or set data: none");
            }
            return DataMovement.NONE;
        }
        if (initialLoad != null && v != null && !data.moves()) {
            reading.problem(initialAt.path, "true", "contradicts data: none",
                    "set data.type to scan or snapshot, or initial_load: skip");
        }
        return data;
    }

    /** Seed 000: {@code initial_load: {enabled: true}}, {@code enabled: skip}, or {@code initial_load: skip}. */
    private Boolean initialLoad(Located at) {
        JsonNode v = at.owner.get("initial_load");
        String fix = "use initial_load: {enabled: true} or initial_load: skip";
        if (v.isObject()) {
            Section s = Section.of(v, at.path, reading, fix, INITIAL_LOAD);
            JsonNode enabled = s.get("enabled");
            s.finish();
            if (enabled == null) {
                return true;
            }
            return enabledFlag(enabled, s.pathOf("enabled"), fix);
        }
        return enabledFlag(v, at.path, fix);
    }

    private Boolean enabledFlag(JsonNode v, String path, String fix) {
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isTextual() && v.asText().equals("skip")) {
            return false;
        }
        reading.problemAt(path, v, "is not true, false or skip", fix);
        return null;
    }

    private ConflictResolution conflictResolution(Section root, Section migration, Section cdcSection, Cdc cdc) {
        List<Located> places = new ArrayList<>();
        if (cdcSection != null && cdcSection.has("conflict_resolution")) {
            places.add(new Located(cdcSection, cdcSection.pathOf("conflict_resolution")));
        }
        Located outer = locate(root, migration, "conflict_resolution");
        if (outer != null) {
            places.add(outer);
        }
        if (places.isEmpty()) {
            return ConflictResolution.DEFAULT;
        }
        if (places.size() > 1) {
            reading.problem(places.get(1).path, null, "is also given at " + places.get(0).path,
                    "keep only one conflict_resolution");
            places.get(1).owner.skip("conflict_resolution");
        }
        Located at = places.get(0);
        if (!cdc.enabled()) {
            reading.problem(at.path, null, "decides how streamed changes meet the target's rows, but change capture "
                    + "is off (cdc.method none or type full), so it would do nothing", "remove conflict_resolution, "
                    + "or set cdc.method");
        }
        return new ConflictSection(reading).read(at.owner, at.path, cdc.timestampColumn());
    }

    private Continuous continuous(Section root, Section migration) {
        Located at = locate(root, migration, "continuous");
        if (at == null) {
            return Continuous.DEFAULT;
        }
        Section s = at.owner.section("continuous", "write continuous: {enabled, stop_when}", CONTINUOUS);
        boolean enabled = s.bool("enabled", true);
        Continuous.StopWhen stop = s.enumOf("stop_when", Continuous.StopWhen.class,
                enabled ? Continuous.StopWhen.MANUAL : Continuous.StopWhen.IN_SYNC);
        if (!enabled && stop == Continuous.StopWhen.MANUAL) {
            reading.problem(s.pathOf("stop_when"), "'manual'", "contradicts enabled: false",
                    "a non-continuous migration stops when in sync: set stop_when: in_sync or enabled: true");
        }
        s.finish();
        return new Continuous(enabled, stop);
    }

    private static <T> List<T> orEmpty(List<T> l) {
        return l == null ? List.of() : l;
    }

    private static <K, V> Map<K, V> orEmpty(Map<K, V> m) {
        return m == null ? Map.of() : m;
    }
}
