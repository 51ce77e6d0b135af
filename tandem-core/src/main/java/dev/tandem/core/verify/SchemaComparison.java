package dev.tandem.core.verify;

import dev.tandem.core.plan.TableJob;
import dev.tandem.core.spi.ColumnInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A table's columns on both sides, compared before its rows: rows are compared over the columns both sides have, so a
 * column on one side only (a source {@code ADD COLUMN} the target never got) or a changed type would otherwise let
 * "equal" stand for tables that differ. Names are compared exactly; types as each database spells them, and only
 * between two databases of one engine (across engines the type names differ by nature; the rows' normalised values
 * are compared instead). Generated columns are the target's to compute and are compared by name only.
 */
final class SchemaComparison {
    private SchemaComparison() {
    }

    /**
     * One column that differs.
     *
     * @param sourceType its type on the source, or null when the source has no such column
     * @param targetType its type on the target, or null when the target has no such column
     */
    record Difference(String column, String sourceType, String targetType) {
        /** For people: which column, and what differs. */
        String describe() {
            if (targetType == null) {
                return "column " + column + " (" + sourceType + ") is on the source only";
            }
            if (sourceType == null) {
                return "column " + column + " (" + targetType + ") is on the target only";
            }
            return "column " + column + " is " + sourceType + " on the source, " + targetType + " on the target";
        }
    }

    /**
     * Every difference between {@code job}'s source and target columns; empty when the columns agree.
     *
     * @param sameEngine whether both sides are the same database engine (types are compared then)
     */
    static List<Difference> differences(TableJob job, boolean sameEngine) {
        List<Difference> out = new ArrayList<>();
        for (ColumnInfo s : job.source().columns()) {
            var t = job.target().column(s.name());
            if (t.isEmpty()) {
                out.add(new Difference(s.name(), s.nativeType(), null));
            } else if (sameEngine && !s.generated() && !t.get().generated()
                    && !normal(s.nativeType()).equals(normal(t.get().nativeType()))) {
                out.add(new Difference(s.name(), s.nativeType(), t.get().nativeType()));
            }
        }
        for (ColumnInfo t : job.target().columns()) {
            if (job.source().column(t.name()).isEmpty()) {
                out.add(new Difference(t.name(), null, t.nativeType()));
            }
        }
        return out;
    }

    private static String normal(String type) {
        return type == null ? "" : type.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    }
}
