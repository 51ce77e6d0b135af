package dev.tandem.core.cdc;

import dev.tandem.core.spi.ColumnChange;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.store.TableShapes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Whether rows of one table, as the source sends them now, fit the target (DESIGN.md correctness point 6) — the
 * rule, apart from reading catalogs and acting on the answer ({@link SchemaWatch}).
 * <p>Three views of the table meet here: the columns a change of the stream carries ({@code streamed}: its shape at
 * that point of the log), the source's catalog now ({@code source}: possibly later than the stream, when more DDL
 * followed) and the target's catalog now ({@code target}); plus the pair of shapes the migration started with or last
 * accepted ({@link TableShapes.Shape}). A difference is reported only when the target cannot take the streamed rows
 * the way the source holds them:
 * <ul>
 *   <li>a streamed column the target lacks: added (or renamed) on the source — unless the source's catalog no longer
 *       has it either (the stream is replaying rows from before a drop the target already mirrors: its values are
 *       left out);</li>
 *   <li>a type on the source that differs from the target's, unless that pair is the one the migration started with
 *       (a target validated with wider types by {@code schema: existing});</li>
 *   <li>a target column the streamed rows lack: dropped on the source — unless the source's catalog has it (rows from
 *       before an ADD COLUMN the target already mirrors: the target fills in its default, as the source did) or the
 *       source never had it (a column of the target's own, there from the start).</li>
 * </ul>
 * Hazard: a column renamed on the source looks like one dropped and one added. Applying that as a drop and an add
 * would empty the column on the target, so an added and a dropped column of one type become one
 * {@link ColumnChange.Kind#RENAME}, which is never applied by Tandem itself. Types are compared only between two
 * databases of one engine (across engines the names differ by nature).
 */
final class SchemaDiff {
    private SchemaDiff() {
    }

    /**
     * The differences between the streamed shape and the target; empty when the target takes the rows as they come.
     *
     * @param streamed   the columns of the stream's rows, or null to check the source's catalog itself
     * @param source     the source table now
     * @param target     the target table now
     * @param started    the shapes the migration started with or last accepted, or null when none is recorded
     * @param sameEngine whether both sides are one engine (types are compared then)
     */
    static List<ColumnChange> between(List<String> streamed, TableInfo source, TableInfo target,
                                      TableShapes.Shape started, boolean sameEngine) {
        List<String> names = streamed != null ? streamed : source.columns().stream().map(ColumnInfo::name).toList();
        Set<String> present = Set.copyOf(names);
        List<ColumnChange> added = new ArrayList<>();
        List<ColumnChange> out = new ArrayList<>();
        for (String name : names) {
            ColumnInfo now = source.column(name).orElse(null);
            var there = target.column(name);
            if (there.isEmpty()) {
                if (now != null) {
                    added.add(new ColumnChange(ColumnChange.Kind.ADD, name, now, null, null));
                }
            } else if (sameEngine && now != null && !now.generated() && !there.get().generated()
                    && !normal(now.nativeType()).equals(normal(there.get().nativeType()))
                    && !startedAs(started, name, now.nativeType(), there.get().nativeType())) {
                out.add(new ColumnChange(ColumnChange.Kind.TYPE, name, now, there.get().nativeType(), null));
            }
        }
        List<ColumnChange> dropped = new ArrayList<>();
        for (ColumnInfo t : target.columns()) {
            if (!present.contains(t.name()) && source.column(t.name()).isEmpty() && started != null
                    && started.source().containsKey(t.name())) {
                dropped.add(new ColumnChange(ColumnChange.Kind.DROP, t.name(), null, t.nativeType(), null));
            }
        }
        if (added.size() == 1 && dropped.size() == 1 && (!sameEngine || normal(added.get(0).source().nativeType())
                .equals(normal(dropped.get(0).targetType())))) {
            ColumnChange a = added.get(0);
            out.add(new ColumnChange(ColumnChange.Kind.RENAME, a.column(), a.source(), dropped.get(0).targetType(),
                    dropped.get(0).column()));
        } else {
            out.addAll(added);
            out.addAll(dropped);
        }
        return out;
    }

    /** Whether {@code column} was {@code sourceType} on the source and {@code targetType} on the target at the start. */
    private static boolean startedAs(TableShapes.Shape started, String column, String sourceType, String targetType) {
        if (started == null) {
            return false;
        }
        String s = started.source().get(column);
        String t = started.target().get(column);
        return s != null && t != null && normal(s).equals(normal(sourceType)) && normal(t).equals(normal(targetType));
    }

    /**
     * Whether {@code c} may be added to the target by Tandem itself: nullable or with a constant default (existing
     * rows then get on the target what they got on the source), neither generated nor an identity (their values
     * come from the database, and would differ).
     */
    static boolean safeToAdd(ColumnInfo c) {
        if (c.generated() || c.identity()) {
            return false;
        }
        String d = c.defaultExpression();
        return d == null ? c.nullable() : CONSTANT.matcher(d.trim()).matches();
    }

    /** A literal, possibly cast: {@code 0}, {@code -1.5}, {@code 'x'::text}, {@code true}, {@code NULL::integer}. */
    private static final java.util.regex.Pattern CONSTANT = java.util.regex.Pattern.compile(
            "(?i)\\(?\\s*(-?\\d+(\\.\\d+)?|'([^']|'')*'|true|false|null)\\s*\\)?(::[a-z_][a-z0-9_ ]*(\\(\\d+(,\\d+)?\\))?"
            + "(\\[\\])?)*");

    static String normal(String type) {
        return type == null ? "" : type.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
    }
}
