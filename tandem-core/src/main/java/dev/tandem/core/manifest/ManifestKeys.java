package dev.tandem.core.manifest;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Every key a manifest may hold, as a path ({@code cdc.method}, {@code alerting.rules[].condition},
 * {@code strategy.read_percentage}), read from the very sets the reader checks keys against — so a key added to the
 * reader is a key here, and the test that holds every key to "works end to end or is refused" (ManifestKeysIT) fails
 * until the new key is given its evidence. Seed 000's {@code migration:} block is one entry: its keys are the top-level
 * ones, written in another place.
 */
public final class ManifestKeys {
    private ManifestKeys() {
    }

    public static SortedSet<String> all() {
        SortedSet<String> out = new TreeSet<>();
        for (String top : ManifestBuilder.TOP) {
            switch (top) {
                case "source", "target" -> under(out, top, ManifestBuilder.ENDPOINT);
                case "scope" -> under(out, top, ManifestBuilder.SCOPE);
                case "data" -> {
                    out.add("data"); // data: "none" (seed 002)
                    under(out, top, ManifestBuilder.DATA);
                }
                case "initial_load" -> {
                    out.add("initial_load"); // initial_load: skip
                    under(out, top, ManifestBuilder.INITIAL_LOAD);
                }
                case "cdc" -> under(out, top, ManifestBuilder.CDC);
                case "conflict_resolution" -> {
                    out.add("conflict_resolution"); // a strategy name alone
                    under(out, top, ConflictSection.CONFLICT);
                    out.remove("conflict_resolution.overrides"); // its entries, below
                    under(out, "conflict_resolution.overrides[]", ConflictSection.OVERRIDE);
                }
                case "continuous" -> under(out, top, ManifestBuilder.CONTINUOUS);
                case "schema" -> {
                    out.add("schema"); // schema: create | existing
                    under(out, top, ManifestBuilder.SCHEMA);
                    out.remove("schema.columns"); // its entries, below
                    under(out, "schema.columns[]", ManifestBuilder.SCHEMA_COLUMN);
                }
                case "strategy" -> {
                    out.add("strategy.type");
                    PolicySections.STRATEGY_PARAMS.values().forEach(ps -> under(out, top, ps));
                    out.remove("strategy.write_mode");
                    under(out, "strategy.write_mode", PolicySections.WRITE_MODE);
                }
                case "validation" -> {
                    under(out, top, PolicySections.VALIDATION);
                    out.remove("validation.shadow_reads");
                    under(out, "validation.shadow_reads", PolicySections.SHADOW_READS);
                }
                case "abort_thresholds" -> under(out, top, PolicySections.ABORT);
                case "failure_handling" -> {
                    out.add("failure_handling"); // a type name alone
                    under(out, top, PolicySections.FAILURE);
                }
                case "alerting" -> under(out, "alerting.rules[]", PolicySections.RULE);
                case "apis" -> out.add("apis[].id");
                case "interlays" -> under(out, "interlays[]", Set.of("id", "endpoint"));
                default -> out.add(top);
            }
        }
        return out;
    }

    private static void under(Set<String> out, String prefix, Set<String> keys) {
        keys.forEach(k -> out.add(prefix + "." + k));
    }
}
