package dev.tandem.core.manifest;

import static dev.tandem.core.manifest.Section.keys;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The policy sections of a manifest, for {@link ManifestBuilder}: the routing strategy (seed 002's nine types and
 * their parameters), validation, abort thresholds, failure handling and alert rules; every problem noted in the
 * {@link Reading}.
 */
final class PolicySections {
    static final Set<String> WRITE_MODE = keys("mode", "policy", "write_percentage");
    static final Set<String> VALIDATION = keys("mode", "continuous", "shadow_reads", "repair",
            "rows_per_second");
    static final Set<String> SHADOW_READS = keys("sample");
    static final Set<String> ABORT = keys("lag_seconds", "drift_rows", "shadow_mismatch_rate", "error_rate");
    static final Set<String> FAILURE = keys("type", "retry_count");
    static final Set<String> ALERTING = keys("rules");
    static final Set<String> RULE = keys("name", "condition", "severity", "message", "webhook");

    /** Each strategy's parameters, as seed 002 names them. */
    static final Map<Strategy.Type, Set<String>> STRATEGY_PARAMS = new LinkedHashMap<>();

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

    private final Reading reading;

    PolicySections(Reading reading) {
        this.reading = reading;
    }

    Strategy strategy(Section root) {
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
        Strategy out = strategy(type, s);
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

    /** The parameters of a strategy of {@code type}, read from its section. */
    private Strategy strategy(Strategy.Type type, Section s) {
        return switch (type) {
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

    Validation validation(Section root) {
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

    AbortThresholds abortThresholds(Section root) {
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

    FailureHandling failureHandling(Section root) {
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

    Alerting alerting(Section root) {
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
