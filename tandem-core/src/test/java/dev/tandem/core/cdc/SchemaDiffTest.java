package dev.tandem.core.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.spi.ColumnChange;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.store.TableShapes;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchemaDiffTest {
    private static final TableInfo START = table("id integer", "balance bigint", "extra text");
    private static final TableShapes.Shape STARTED = TableShapes.Shape.of(START, START);

    @Test
    void theSameShapeOnBothSidesIsNoDifference() {
        assertThat(SchemaDiff.between(names(START), START, START, STARTED, true)).isEmpty();
        assertThat(SchemaDiff.between(null, START, START, STARTED, true)).isEmpty();
    }

    @Test
    void aColumnAddedOnTheSourceIsAnAddUntilTheTargetHasIt() {
        TableInfo source = table("id integer", "balance bigint", "extra text", "note text");
        assertThat(SchemaDiff.between(names(source), source, START, STARTED, true))
                .extracting(ColumnChange::kind, ColumnChange::column)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ColumnChange.Kind.ADD, "note"));
        // rows from before the ADD, replayed after the operator added it on the target too: nothing differs
        assertThat(SchemaDiff.between(names(START), source, source, STARTED, true)).isEmpty();
    }

    @Test
    void aDropIsToldFromAColumnTheTargetAlwaysHad() {
        TableInfo source = table("id integer", "balance bigint");
        assertThat(SchemaDiff.between(names(source), source, START, STARTED, true))
                .extracting(ColumnChange::kind, ColumnChange::column)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ColumnChange.Kind.DROP, "extra"));
        // a target column the source never had is the target's own
        TableInfo target = table("id integer", "balance bigint", "audit_at timestamp");
        TableShapes.Shape started = TableShapes.Shape.of(source, target);
        assertThat(SchemaDiff.between(names(source), source, target, started, true)).isEmpty();
        // rows streamed before the drop, after the operator dropped it on the target too: its values are left out
        assertThat(SchemaDiff.between(names(START), source, source, STARTED, true)).isEmpty();
    }

    @Test
    void anAddAndADropOfOneTypeAreARenameNeverTwoChanges() {
        TableInfo source = table("id integer", "balance bigint", "extra2 text");
        List<ColumnChange> d = SchemaDiff.between(null, source, START, STARTED, true);
        assertThat(d).singleElement().satisfies(c -> {
            assertThat(c.kind()).isEqualTo(ColumnChange.Kind.RENAME);
            assertThat(c.previousName()).isEqualTo("extra");
            assertThat(c.column()).isEqualTo("extra2");
        });
    }

    @Test
    void aTypeChangeIsADifferenceUnlessTheMigrationStartedWithThatPair() {
        TableInfo source = table("id integer", "balance numeric(20,0)", "extra text");
        assertThat(SchemaDiff.between(names(source), source, START, STARTED, true))
                .extracting(ColumnChange::kind, ColumnChange::targetType)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ColumnChange.Kind.TYPE, "bigint"));
        // a target validated with a wider type at the start (schema: existing)
        TableInfo narrow = table("id integer", "balance integer", "extra text");
        assertThat(SchemaDiff.between(names(narrow), narrow, START, TableShapes.Shape.of(narrow, START), true))
                .isEmpty();
        // across engines type names differ by nature: only names are compared
        assertThat(SchemaDiff.between(names(source), source, START, STARTED, false)).isEmpty();
    }

    @Test
    void onlyConstantDefaultsAreSafeToAddOnTheTarget() {
        assertThat(SchemaDiff.safeToAdd(column("a text", true, null))).isTrue();
        assertThat(SchemaDiff.safeToAdd(column("a text", false, "'n/a'::text"))).isTrue();
        assertThat(SchemaDiff.safeToAdd(column("a integer", false, "0"))).isTrue();
        assertThat(SchemaDiff.safeToAdd(column("a numeric", false, "'-1.5'::numeric(10,2)"))).isTrue();
        assertThat(SchemaDiff.safeToAdd(column("a text", false, null))).as("NOT NULL without a default").isFalse();
        assertThat(SchemaDiff.safeToAdd(column("a timestamp", true, "now()"))).isFalse();
        assertThat(SchemaDiff.safeToAdd(column("a uuid", true, "gen_random_uuid()"))).isFalse();
    }

    private static ColumnInfo column(String spec, boolean nullable, String dflt) {
        String[] p = spec.split(" ", 2);
        return new ColumnInfo(p[0], p[1], java.sql.Types.OTHER, nullable, dflt, false, false, true);
    }

    private static TableInfo table(String... columns) {
        List<ColumnInfo> cols = new ArrayList<>();
        for (String c : columns) {
            cols.add(column(c, true, null));
        }
        return new TableInfo(new TableRef("public", "t"), cols, new KeyInfo("t_pkey", List.of("id"), true), List.of(), 0, 0);
    }

    private static List<String> names(TableInfo t) {
        return t.columns().stream().map(ColumnInfo::name).toList();
    }
}
