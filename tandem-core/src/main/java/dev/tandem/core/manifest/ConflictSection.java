package dev.tandem.core.manifest;

import static dev.tandem.core.manifest.Section.keys;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Seed 000's {@code conflict_resolution}, for {@link ManifestBuilder}: a strategy name, or {@code {default,
 * timestamp_column, merge_class, overrides: [{table, strategy, ...}]}}; newest_wins needs a timestamp column and
 * custom a merge class, inherited from the levels above. Every problem noted in the {@link Reading}.
 */
final class ConflictSection {
    static final Set<String> CONFLICT = keys("default", "timestamp_column", "merge_class", "overrides");
    static final Set<String> OVERRIDE = keys("table", "strategy", "timestamp_column", "merge_class");

    private final Reading reading;

    ConflictSection(Reading reading) {
        this.reading = reading;
    }

    /**
     * The {@code conflict_resolution} of {@code owner}, found at {@code path}.
     *
     * @param cdcTimestampColumn {@code cdc.timestamp_column}, which newest_wins falls back on
     */
    ConflictResolution read(Section owner, String path, String cdcTimestampColumn) {
        JsonNode v = owner.get("conflict_resolution");
        if (v.isTextual()) {
            ConflictResolution.Strategy st = owner.enumValue(path, v, ConflictResolution.Strategy.class,
                    ConflictResolution.Strategy.SOURCE_WINS);
            check(st, path, cdcTimestampColumn, null);
            return new ConflictResolution(st, null, null, List.of());
        }
        Section s = Section.of(v, path, reading, "write conflict_resolution: source_wins or {default, overrides}",
                CONFLICT);
        ConflictResolution.Strategy dflt = s.enumOf("default", ConflictResolution.Strategy.class,
                ConflictResolution.Strategy.SOURCE_WINS);
        String ts = s.text("timestamp_column");
        String merge = s.text("merge_class");
        String inheritedTs = ts != null ? ts : cdcTimestampColumn;
        check(dflt, s.pathOf("default"), inheritedTs, merge);
        List<ConflictResolution.Override> overrides = new ArrayList<>();
        List<JsonNode> list = s.list("overrides");
        Set<String> tables = new HashSet<>();
        boolean mergeUsed = false;
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
                    check(st, o.pathOf("strategy"), ots != null ? ots : inheritedTs,
                            omerge != null ? omerge : merge);
                }
                if (omerge != null && st != null && st != ConflictResolution.Strategy.CUSTOM) {
                    reading.problem(o.pathOf("merge_class"), "'" + omerge + "'", "is used only by strategy custom, "
                            + "not " + Enums.wire(st), "remove merge_class, or set strategy: custom");
                }
                if (st == ConflictResolution.Strategy.CUSTOM && omerge == null) {
                    mergeUsed = true;
                }
                if (table != null && !tables.add(table)) {
                    reading.problem(o.pathOf("table"), "'" + table + "'", "has two overrides", "keep one");
                }
                o.finish();
                overrides.add(new ConflictResolution.Override(table, st, ots, omerge));
            }
        }
        if (merge != null && dflt != ConflictResolution.Strategy.CUSTOM && !mergeUsed) {
            reading.problem(s.pathOf("merge_class"), "'" + merge + "'", "is used only by strategy custom, which "
                    + "neither the default nor an override without its own merge_class uses",
                    "remove merge_class, or set default: custom");
        }
        s.finish();
        return new ConflictResolution(dflt, ts, merge, overrides);
    }

    private void check(ConflictResolution.Strategy st, String path, String tsColumn, String merge) {
        if (st == ConflictResolution.Strategy.NEWEST_WINS && tsColumn == null) {
            reading.problem(path, "'newest_wins'", "needs a timestamp column to compare",
                    "add timestamp_column: last_updated next to it");
        }
        if (st == ConflictResolution.Strategy.CUSTOM && merge == null) {
            reading.problem(path, "'custom'", "needs the class that merges",
                    "add merge_class: com.example.MyMerge next to it");
        }
    }
}
