package dev.tandem.core.manifest;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tandem.core.error.TandemException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads a manifest from YAML or JSON into a {@link Manifest}, checking every rule and collecting every problem
 * before failing once with a {@link ManifestException} (never a stack trace, never just the first problem).
 * <p>Accepted shapes: DESIGN.md's manifest; seed 000's {@code migration:} block (type, initial_load, cdc,
 * conflict_resolution, continuous), whose keys may also stand at the top level; seed 002's JSON ({@code strategy}
 * with its nine types, {@code data} as {@code "none"} or an object, {@code failure_handling} as a string or an
 * object). {@code ${env:NAME}} is replaced by the environment variable NAME.
 */
public final class ManifestReader {

    /** Whether a manifest without endpoints is acceptable (seed 002 creates first and configures later). */
    public enum Purpose {
        /** A migration being created or edited: source and target may come later. */
        DRAFT,
        /** A migration about to be planned or run: source and target are required. */
        RUN
    }

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    private static final Set<String> TOP = keys("id", "description", "source", "target", "scope", "schema", "data",
            "migration", "type", "initial_load", "cdc", "conflict_resolution", "continuous", "strategy", "validation",
            "abort_thresholds", "failure_handling", "alerting", "apis", "interlays");
    private static final Set<String> MIGRATION = keys("type", "initial_load", "cdc", "conflict_resolution", "continuous");
    private static final Set<String> ENDPOINT = keys("url", "user", "password", "properties");
    private static final Set<String> SCOPE = keys("tables", "include", "exclude");
    private static final Set<String> DATA = keys("type", "replace", "chunk_rows", "parallelism", "rows_per_second");
    private static final Set<String> INITIAL_LOAD = keys("enabled");
    private static final Set<String> CDC = keys("method", "timestamp_column", "poll_interval", "heartbeat_interval",
            "overlap_window", "apply", "conflict_resolution");
    private static final Set<String> CONFLICT = keys("default", "timestamp_column", "merge_class", "overrides");
    private static final Set<String> OVERRIDE = keys("table", "strategy", "timestamp_column", "merge_class");
    private static final Set<String> CONTINUOUS = keys("enabled", "stop_when");
    private static final Set<String> WRITE_MODE = keys("mode", "policy", "write_percentage");
    private static final Set<String> VALIDATION = keys("mode", "continuous", "shadow_reads", "repair",
            "rows_per_second");
    private static final Set<String> SHADOW_READS = keys("sample");
    private static final Set<String> ABORT = keys("lag_seconds", "drift_rows", "shadow_mismatch_rate", "error_rate");
    private static final Set<String> FAILURE = keys("type", "retry_count");
    private static final Set<String> ALERTING = keys("rules");
    private static final Set<String> RULE = keys("name", "condition", "severity", "message", "webhook");

    /** Each strategy's parameters, as seed 002 names them. */
    private static final Map<Strategy.Type, Set<String>> STRATEGY_PARAMS = new LinkedHashMap<>();

    static {
        STRATEGY_PARAMS.put(Strategy.Type.BIG_BANG, keys());
        STRATEGY_PARAMS.put(Strategy.Type.CANARY, keys("read_percentage", "write_mode"));
        STRATEGY_PARAMS.put(Strategy.Type.BLUE_GREEN, keys("active_is_new"));
        STRATEGY_PARAMS.put(Strategy.Type.ROLLING_UPDATE, keys("migrated_instances", "total_instances", "write_mode"));
        STRATEGY_PARAMS.put(Strategy.Type.SHADOW_TRAFFIC, keys());
        STRATEGY_PARAMS.put(Strategy.Type.STRANGLER_FIG, keys("features", "write_mode"));
        STRATEGY_PARAMS.put(Strategy.Type.FEATURE_FLAG, keys("flags", "rollout_percentage", "write_mode"));
        STRATEGY_PARAMS.put(Strategy.Type.GEOGRAPHIC, keys("regions", "write_mode"));
        STRATEGY_PARAMS.put(Strategy.Type.TIME_WINDOW, keys("window_start", "window_end", "executed"));
    }

    private final Function<String, String> env;
    private final ObjectMapper json;
    private final ObjectMapper yaml;

    /**
     * @param env looks up environment variables for {@code ${env:NAME}}; {@code System::getenv} in production
     */
    public ManifestReader(Function<String, String> env) {
        this.env = env;
        this.json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        this.yaml = new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    public static ManifestReader withSystemEnvironment() {
        return new ManifestReader(System::getenv);
    }

    /** Reads a manifest file for planning or running (endpoints required). */
    public Manifest read(Path file) {
        return document(file, Purpose.RUN).manifest();
    }

    public ManifestDocument document(Path file, Purpose purpose) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw TandemException.badInput("manifest file " + file + " not found (working directory "
                    + Path.of("").toAbsolutePath() + "); pass -f with the path of your manifest");
        } catch (IOException e) {
            throw TandemException.badInput("cannot read manifest file " + file + ": " + e.getMessage());
        }
        return document(text, file.toString(), purpose);
    }

    public Manifest read(String text, String sourceName, Purpose purpose) {
        return document(text, sourceName, purpose).manifest();
    }

    public ManifestDocument document(String text, String sourceName, Purpose purpose) {
        return document(parse(text, sourceName), sourceName, purpose);
    }

    /** Parses YAML or JSON (JSON when the text starts with '{') into a tree; a syntax error is a problem. */
    public JsonNode parse(String text, String sourceName) {
        String trimmed = text.stripLeading();
        boolean isJson = trimmed.startsWith("{");
        try {
            JsonNode tree = isJson ? json.readTree(text) : EnvRefs.restore(yaml.readTree(EnvRefs.protect(text)));
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                throw new ManifestException(sourceName, List.of(new Problem("", null, "is empty",
                        "write a manifest; see README.md's quick start")));
            }
            return tree;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ManifestException(sourceName, List.of(new Problem(where, null,
                    "is not valid " + (isJson ? "JSON" : "YAML") + ": " + e.getOriginalMessage(),
                    "fix the syntax at that position")));
        }
    }

    /** Reads an already parsed document (a REST request body, say). */
    public ManifestDocument document(JsonNode document, String sourceName, Purpose purpose) {
        Reading reading = new Reading();
        JsonNode tree = new Interpolation(env, reading).apply(document, "");
        Manifest m = new Builder(reading, purpose).build(tree);
        if (!reading.problems().isEmpty()) {
            throw new ManifestException(sourceName, reading.problems());
        }
        return new ManifestDocument(m, document);
    }

    private static Set<String> keys(String... keys) {
        return new LinkedHashSet<>(List.of(keys));
    }

    /** One pass over one document. */
    private static final class Builder {
        private final Reading reading;
        private final Purpose purpose;

        Builder(Reading reading, Purpose purpose) {
            this.reading = reading;
            this.purpose = purpose;
        }

        Manifest build(JsonNode tree) {
            Section root = Section.of(tree, "", reading, "write the manifest as a map of keys", TOP);
            String id = root.requiredText("id", "add id: a short name such as orders-to-new-pg");
            if (id != null && !ID.matcher(id).matches()) {
                reading.problem("id", "'" + id + "'", "is not a valid id",
                        "use 1 to 63 letters, digits, '_', '-' or '.', starting with a letter or digit");
            }
            String description = root.text("description");
            Endpoint source = endpoint(root, "source");
            Endpoint target = endpoint(root, "target");
            if (source != null && target != null && source.url() != null && source.url().equals(target.url())) {
                reading.problem("target.url", "'" + target.displayUrl() + "'", "is the same as source.url",
                        "point target at the new database");
            }
            Scope scope = scope(root);
            SchemaMode schema = root.enumOf("schema", SchemaMode.class, SchemaMode.CREATE);

            Section migration = root.section("migration", "write migration: as a map (seed 000's block)", MIGRATION);
            Located typeAt = locate(root, migration, "type");
            MigrationType declaredType = typeAt == null ? null
                    : typeAt.owner.enumOf("type", MigrationType.class, null);

            Located cdcAt = locate(root, migration, "cdc");
            Section cdcSection = cdcAt == null ? null
                    : cdcAt.owner.section("cdc", "write cdc: as a map with method", CDC);
            Cdc cdc = cdc(cdcSection, declaredType, source);

            MigrationType type = declaredType != null ? declaredType
                    : cdc.enabled() ? MigrationType.INCREMENTAL : MigrationType.FULL;
            if (declaredType == MigrationType.INCREMENTAL && cdcSection != null && !cdc.enabled()) {
                reading.problem(typeAt.path, "'incremental'", "needs change data capture, but cdc.method is none",
                        "set cdc.method to auto, or type: full");
            }

            DataMovement data = data(root, migration);
            ConflictResolution conflicts = conflictResolution(root, migration, cdcSection, cdc);
            Continuous continuous = continuous(root, migration);
            if (cdcSection != null) {
                cdcSection.finish();
            }
            if (migration != null) {
                migration.finish();
            }
            Strategy strategy = strategy(root);
            Validation validation = validation(root);
            AbortThresholds abort = abortThresholds(root);
            FailureHandling failure = failureHandling(root);
            Alerting alerting = alerting(root);
            resources(tree, root, "apis", "id");
            resources(tree, root, "interlays", "endpoint");
            root.finish();
            return new Manifest(id, description, source, target, scope, schema, type, data, cdc, conflicts, continuous,
                    strategy, validation, abort, failure, alerting);
        }

        /**
         * Seed 002's sub-resources added to a migration ({@code POST /migrations/{id}/api/{api_id}} and
         * {@code /interlay/{interlay_id}}): kept with the manifest as lists of objects, each with an {@code id} and
         * the field that resource needs. They describe who is routed; the router (tandem-router) reads them.
         */
        private void resources(JsonNode tree, Section root, String key, String required) {
            JsonNode list = tree == null ? null : tree.get(key);
            root.skip(key);
            if (list == null || list.isNull()) {
                return;
            }
            if (!list.isArray()) {
                reading.problem(key, null, "is not a list", "write " + key + ": [{id: ..., " + required + ": ...}]");
                return;
            }
            for (int i = 0; i < list.size(); i++) {
                JsonNode item = list.get(i);
                for (String field : new LinkedHashSet<>(List.of("id", required))) {
                    if (!item.isObject() || !item.path(field).isTextual() || item.path(field).asText().isBlank()) {
                        reading.problem(key + "[" + i + "]." + field, null, "missing",
                                "give each of " + key + " an " + field + " (text)");
                    }
                }
            }
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
                if (purpose == Purpose.RUN) {
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
            String user = s.text("user");
            Secret password = s.secret("password");
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
                        }
                    });
                }
            }
            s.finish();
            return new Endpoint(url, user, password, properties);
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

        private Cdc cdc(Section s, MigrationType declaredType, Endpoint source) {
            if (s == null) {
                return declaredType == MigrationType.FULL ? Cdc.NONE : Cdc.AUTO;
            }
            Cdc.Method method = s.enumOf("method", Cdc.Method.class, Cdc.Method.AUTO);
            String tsColumn = s.text("timestamp_column");
            Duration poll = s.duration("poll_interval", Cdc.DEFAULT_POLL_INTERVAL);
            Duration heartbeat = s.duration("heartbeat_interval", Cdc.DEFAULT_HEARTBEAT_INTERVAL);
            Duration overlap = s.duration("overlap_window", Cdc.DEFAULT_OVERLAP_WINDOW);
            Cdc.Apply apply = s.enumOf("apply", Cdc.Apply.class, Cdc.Apply.GROUP_COMMIT);
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
            String engine = source == null ? null : JdbcUrls.subprotocol(source.url());
            if (engine != null) {
                boolean postgres = engine.equals("postgresql");
                boolean mysql = engine.equals("mysql") || engine.equals("mariadb");
                if (method == Cdc.Method.BINLOG && postgres) {
                    reading.problem(s.pathOf("method"), "'binlog'", "needs a MySQL or MariaDB source, but the source "
                            + "is PostgreSQL", "use logical_replication or auto");
                } else if (method == Cdc.Method.LOGICAL_REPLICATION && mysql) {
                    reading.problem(s.pathOf("method"), "'logical_replication'", "needs a PostgreSQL source, but the "
                            + "source is " + engine, "use binlog or auto");
                }
            }
            return new Cdc(method, tsColumn, poll, heartbeat, overlap, apply);
        }

        private DataMovement data(Section root, Section migration) {
            Located initialAt = locate(root, migration, "initial_load");
            Boolean initialLoad = initialAt == null ? null : initialLoad(initialAt);
            JsonNode v = root.get("data");
            DataMovement data;
            if (v == null) {
                data = DataMovement.DEFAULT;
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
            JsonNode v = at.owner.get("conflict_resolution");
            if (v.isTextual()) {
                ConflictResolution.Strategy st = at.owner.enumValue(at.path, v, ConflictResolution.Strategy.class,
                        ConflictResolution.Strategy.SOURCE_WINS);
                checkConflictStrategy(st, at.path, cdc.timestampColumn(), null);
                return new ConflictResolution(st, null, null, List.of());
            }
            Section s = Section.of(v, at.path, reading, "write conflict_resolution: source_wins or {default, overrides}",
                    CONFLICT);
            ConflictResolution.Strategy dflt = s.enumOf("default", ConflictResolution.Strategy.class,
                    ConflictResolution.Strategy.SOURCE_WINS);
            String ts = s.text("timestamp_column");
            String merge = s.text("merge_class");
            String inheritedTs = ts != null ? ts : cdc.timestampColumn();
            checkConflictStrategy(dflt, s.pathOf("default"), inheritedTs, merge);
            List<ConflictResolution.Override> overrides = new ArrayList<>();
            List<JsonNode> list = s.list("overrides");
            Set<String> tables = new HashSet<>();
            if (list != null) {
                for (int i = 0; i < list.size(); i++) {
                    String p = s.pathOf("overrides") + "[" + i + "]";
                    Section o = Section.of(list.get(i), p, reading, "write {table, strategy}", OVERRIDE);
                    String table = o.requiredText("table", "name the table this override is for");
                    ConflictResolution.Strategy st = o.enumOf("strategy", ConflictResolution.Strategy.class, null);
                    o.requirePresent("strategy", st, "use one of "
                            + String.join(", ", Enums.wireNames(ConflictResolution.Strategy.class)));
                    String ots = o.text("timestamp_column");
                    String omerge = o.text("merge_class");
                    if (st != null) {
                        checkConflictStrategy(st, o.pathOf("strategy"), ots != null ? ots : inheritedTs,
                                omerge != null ? omerge : merge);
                    }
                    if (table != null && !tables.add(table)) {
                        reading.problem(o.pathOf("table"), "'" + table + "'", "has two overrides", "keep one");
                    }
                    o.finish();
                    overrides.add(new ConflictResolution.Override(table, st, ots, omerge));
                }
            }
            s.finish();
            return new ConflictResolution(dflt, ts, merge, overrides);
        }

        private void checkConflictStrategy(ConflictResolution.Strategy st, String path, String tsColumn, String merge) {
            if (st == ConflictResolution.Strategy.NEWEST_WINS && tsColumn == null) {
                reading.problem(path, "'newest_wins'", "needs a timestamp column to compare",
                        "add timestamp_column: last_updated next to it");
            }
            if (st == ConflictResolution.Strategy.CUSTOM && merge == null) {
                reading.problem(path, "'custom'", "needs the class that merges",
                        "add merge_class: com.example.MyMerge next to it");
            }
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

        private Strategy strategy(Section root) {
            JsonNode v = root.get("strategy");
            if (v == null) {
                return new Strategy.BigBang();
            }
            Set<String> allParams = new LinkedHashSet<>(List.of("type"));
            STRATEGY_PARAMS.values().forEach(allParams::addAll);
            Section probe = Section.of(v, "strategy", reading, "write strategy: {type, ...}", allParams);
            JsonNode typeNode = probe.get("type");
            if (typeNode == null) {
                if (v.isObject()) {
                    reading.problem("strategy.type", null, "missing",
                            "use one of " + String.join(", ", Enums.wireNames(Strategy.Type.class)));
                }
                probe.finish();
                return new Strategy.BigBang();
            }
            Strategy.Type type = probe.enumValue("strategy.type", typeNode, Strategy.Type.class, null);
            if (type == null) {
                probe.finish();
                return new Strategy.BigBang();
            }
            Set<String> params = new LinkedHashSet<>(List.of("type"));
            params.addAll(STRATEGY_PARAMS.get(type));
            Section s = Section.of(v, "strategy", reading, "write strategy: {type, ...}", params);
            s.get("type");
            Strategy out = switch (type) {
                case BIG_BANG -> new Strategy.BigBang();
                case SHADOW_TRAFFIC -> new Strategy.ShadowTraffic();
                case CANARY -> {
                    Double rp = s.fraction("read_percentage", null);
                    s.requirePresent("read_percentage", rp,
                            "canary routes a fraction of reads: add read_percentage: 0.05");
                    yield new Strategy.Canary(rp == null ? 0.0 : rp, writeMode(s));
                }
                case BLUE_GREEN -> new Strategy.BlueGreen(s.bool("active_is_new", false));
                case ROLLING_UPDATE -> rollingUpdate(s);
                case STRANGLER_FIG -> new Strategy.StranglerFig(orEmpty(s.boolMap("features", true,
                        "map each feature to true (on the target) or false, e.g. {user_auth: true}")), writeMode(s));
                case FEATURE_FLAG -> {
                    Map<String, Boolean> flags = s.boolMap("flags", true,
                            "map each flag to true or false, e.g. {new_database: true}");
                    Double rollout = s.fraction("rollout_percentage", null);
                    s.requirePresent("rollout_percentage", rollout,
                            "add rollout_percentage: the fraction of users who see enabled flags, such as 0.25");
                    yield new Strategy.FeatureFlag(orEmpty(flags), rollout == null ? 0.0 : rollout, writeMode(s));
                }
                case GEOGRAPHIC -> new Strategy.Geographic(orEmpty(s.boolMap("regions", true,
                        "map each region to true (migrated) or false, e.g. {us-east-1: true}")), writeMode(s));
                case TIME_WINDOW -> timeWindow(s);
            };
            for (String k : s.unhandledKeys()) {
                Strategy.Type owner = STRATEGY_PARAMS.entrySet().stream()
                        .filter(e -> e.getValue().contains(k)).map(Map.Entry::getKey).findFirst().orElse(null);
                if (owner != null && !params.contains(k)) {
                    List<String> own = new ArrayList<>(STRATEGY_PARAMS.get(type));
                    reading.problem("strategy." + k, null, "is not a parameter of " + Enums.wire(type)
                                    + " (it belongs to " + Enums.wire(owner) + ")",
                            own.isEmpty() ? Enums.wire(type) + " takes no parameters; remove it"
                                    : Enums.wire(type) + " takes " + String.join(", ", own));
                    s.skip(k);
                }
            }
            s.finish();
            return out;
        }

        private WriteMode writeMode(Section strategy) {
            Section s = strategy.section("write_mode", "write write_mode: {mode: dual_write, policy: old_authoritative}",
                    WRITE_MODE);
            if (s == null) {
                return null;
            }
            WriteMode.Mode mode = s.enumOf("mode", WriteMode.Mode.class, null);
            s.requirePresent("mode", mode, "use dual_write or cutover");
            WriteMode.Policy policy = s.enumOf("policy", WriteMode.Policy.class, null);
            Double wp = s.fraction("write_percentage", null);
            if (mode == WriteMode.Mode.DUAL_WRITE) {
                if (s.has("write_percentage")) {
                    reading.problem(s.pathOf("write_percentage"), null, "does not apply to dual_write",
                            "dual_write writes every write to both sides; remove write_percentage or use mode: cutover");
                }
                if (policy == null) {
                    policy = WriteMode.Policy.OLD_AUTHORITATIVE;
                }
            } else if (mode == WriteMode.Mode.CUTOVER) {
                if (s.has("policy")) {
                    reading.problem(s.pathOf("policy"), null, "does not apply to cutover",
                            "cutover writes to one side only; remove policy or use mode: dual_write");
                }
                s.requirePresent("write_percentage", wp,
                        "cutover sends a fraction of writes to the new side: add write_percentage: 1.0");
            }
            s.finish();
            return new WriteMode(mode, policy, wp);
        }

        private Strategy rollingUpdate(Section s) {
            List<String> migrated = orEmpty(s.textList("migrated_instances"));
            Long total = s.integer("total_instances", 1, 1_000_000, null);
            s.requirePresent("total_instances", total, "add total_instances: how many application instances there are");
            Set<String> seen = new HashSet<>();
            for (String m : migrated) {
                if (!seen.add(m)) {
                    reading.problem("strategy.migrated_instances", "'" + m + "'", "is listed twice", "list it once");
                }
            }
            if (total != null && seen.size() > total) {
                reading.problem("strategy.migrated_instances", seen.size() + " instances",
                        "is more than total_instances " + total, "raise total_instances or remove instances");
            }
            return new Strategy.RollingUpdate(migrated, total == null ? 1 : total.intValue(), writeMode(s));
        }

        private Strategy timeWindow(Section s) {
            Instant start = s.instant("window_start", true, "add window_start: 2024-01-15T02:00:00Z");
            Instant end = s.instant("window_end", true, "add window_end: 2024-01-15T04:00:00Z");
            boolean executed = s.bool("executed", false);
            if (start != null && end != null && !end.isAfter(start)) {
                reading.problem("strategy.window_end", "'" + end + "'", "is not after window_start " + start,
                        "end the window after it starts");
            }
            return new Strategy.TimeWindow(start, end, executed);
        }

        private Validation validation(Section root) {
            Section s = root.section("validation", "write validation: {mode, continuous, repair, rows_per_second, shadow_reads}", VALIDATION);
            if (s == null) {
                return Validation.DEFAULT;
            }
            Validation.Mode mode = s.enumOf("mode", Validation.Mode.class, Validation.Mode.CHECKSUM);
            boolean continuous = s.bool("continuous", true);
            boolean repair = s.bool("repair", false);
            long rps = s.integer("rows_per_second", 1, Long.MAX_VALUE, Validation.DEFAULT.rowsPerSecond());
            double sample = 0.0;
            Section shadow = s.section("shadow_reads", "write shadow_reads: {sample: 0.01}", SHADOW_READS);
            if (shadow != null) {
                sample = shadow.fraction("sample", 0.0);
                shadow.finish();
            }
            s.finish();
            return new Validation(mode, continuous, sample, repair, rps);
        }

        private AbortThresholds abortThresholds(Section root) {
            Section s = root.section("abort_thresholds", "write abort_thresholds: {lag_seconds, drift_rows, ...}", ABORT);
            if (s == null) {
                return AbortThresholds.NONE;
            }
            AbortThresholds t = new AbortThresholds(s.number("lag_seconds", 0, null),
                    s.integer("drift_rows", 0, Long.MAX_VALUE, null), s.fraction("shadow_mismatch_rate", null),
                    s.fraction("error_rate", null));
            s.finish();
            return t;
        }

        private FailureHandling failureHandling(Section root) {
            JsonNode v = root.get("failure_handling");
            if (v == null) {
                return FailureHandling.DEFAULT;
            }
            if (v.isTextual()) {
                FailureHandling.Type t = root.enumValue("failure_handling", v, FailureHandling.Type.class,
                        FailureHandling.Type.ROLLBACK_ALL);
                return new FailureHandling(t, t == FailureHandling.Type.RETRY_THEN_ALL
                        ? FailureHandling.DEFAULT_RETRY_COUNT : 0);
            }
            Section s = Section.of(v, "failure_handling", reading, "write failure_handling: rollback_all or {type, retry_count}",
                    FAILURE);
            FailureHandling.Type t = s.enumOf("type", FailureHandling.Type.class, null);
            s.requirePresent("type", t, "use one of " + String.join(", ", Enums.wireNames(FailureHandling.Type.class)));
            Long retries = s.integer("retry_count", 0, 100, null);
            if (retries != null && t != null && t != FailureHandling.Type.RETRY_THEN_ALL) {
                reading.problem("failure_handling.retry_count", String.valueOf(retries),
                        "only applies to retry_then_all", "remove retry_count or set type: retry_then_all");
            }
            s.finish();
            if (t == FailureHandling.Type.RETRY_THEN_ALL) {
                return new FailureHandling(t, retries == null ? FailureHandling.DEFAULT_RETRY_COUNT : retries.intValue());
            }
            return new FailureHandling(t == null ? FailureHandling.Type.ROLLBACK_ALL : t, 0);
        }

        private Alerting alerting(Section root) {
            Section s = root.section("alerting", "write alerting: {rules: [...]}", ALERTING);
            if (s == null) {
                return Alerting.NONE;
            }
            List<Alerting.Rule> rules = new ArrayList<>();
            List<JsonNode> list = s.list("rules");
            Set<String> names = new HashSet<>();
            if (list != null) {
                for (int i = 0; i < list.size(); i++) {
                    String p = "alerting.rules[" + i + "]";
                    Section r = Section.of(list.get(i), p, reading, "write {name, condition, severity}", RULE);
                    String name = r.requiredText("name", "name the rule, such as high_cdc_lag");
                    if (name != null && !names.add(name)) {
                        reading.problem(r.pathOf("name"), "'" + name + "'", "is used by two rules", "rename one");
                    }
                    String text = r.requiredText("condition", "write a condition such as lag_seconds > 300");
                    AlertCondition condition = null;
                    if (text != null && !text.isBlank()) {
                        try {
                            condition = AlertCondition.parse(text);
                        } catch (AlertCondition.ParseException e) {
                            reading.problem(r.pathOf("condition"), "'" + text + "'", "is not a condition: " + e.getMessage(),
                                    "write e.g. lag_seconds > 300 and drift_rows > 0; metrics: "
                                            + String.join(", ", AlertCondition.METRICS));
                        }
                    }
                    Alerting.Severity sev = r.enumOf("severity", Alerting.Severity.class, Alerting.Severity.MEDIUM);
                    String message = r.text("message");
                    String webhook = r.text("webhook");
                    if (webhook != null && !(webhook.startsWith("http://") || webhook.startsWith("https://"))) {
                        reading.problem(r.pathOf("webhook"), "'" + webhook + "'", "is not an http(s) URL",
                                "use https://hooks.example.com/...");
                    }
                    r.finish();
                    rules.add(new Alerting.Rule(name, condition, sev, message, webhook));
                }
            }
            s.finish();
            return new Alerting(rules);
        }

        private static <T> List<T> orEmpty(List<T> l) {
            return l == null ? List.of() : l;
        }

        private static <K, V> Map<K, V> orEmpty(Map<K, V> m) {
            return m == null ? Map.of() : m;
        }
    }
}
