package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.spi.ColumnChange;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.TableRef;
import org.junit.jupiter.api.Test;

class PgAlterTest {

    @Test
    void widensOnlyWhereEveryValueFits() {
        assertThat(PgAlter.widens("integer", "bigint")).isTrue();
        assertThat(PgAlter.widens("bigint", "integer")).isFalse();
        assertThat(PgAlter.widens("integer", "numeric")).isTrue();
        assertThat(PgAlter.widens("integer", "numeric(10,0)")).isTrue();
        assertThat(PgAlter.widens("bigint", "numeric(12,0)")).isFalse();
        assertThat(PgAlter.widens("numeric(10,2)", "numeric(12,2)")).isTrue();
        assertThat(PgAlter.widens("numeric(10,2)", "numeric(12,4)")).isTrue();
        assertThat(PgAlter.widens("numeric(10,2)", "numeric(10,4)")).as("fewer digits before the point").isFalse();
        assertThat(PgAlter.widens("numeric(12,2)", "numeric(8,2)")).isFalse();
        assertThat(PgAlter.widens("numeric", "numeric(38,10)")).isFalse();
        assertThat(PgAlter.widens("character varying(10)", "character varying(50)")).isTrue();
        assertThat(PgAlter.widens("character varying(50)", "character varying(10)")).isFalse();
        assertThat(PgAlter.widens("character varying(10)", "text")).isTrue();
        assertThat(PgAlter.widens("real", "double precision")).isTrue();
        assertThat(PgAlter.widens("numeric(10,2)", "text")).isFalse();
        assertThat(PgAlter.widens("text", "character varying(10)")).isFalse();
    }

    @Test
    void writesTheTargetStatementForEachKindOfChange() {
        TableRef t = new TableRef("public", "Order Items");
        ColumnInfo note = new ColumnInfo("note", "text", java.sql.Types.VARCHAR, false, "'n/a'::text", false, false,
                true);
        assertThat(PgAlter.statements(t, new ColumnChange(ColumnChange.Kind.ADD, "note", note, null, null)))
                .containsExactly("ALTER TABLE public.\"Order Items\" ADD COLUMN note text DEFAULT 'n/a'::text NOT NULL");
        assertThat(PgAlter.statements(t, new ColumnChange(ColumnChange.Kind.DROP, "extra", null, "text", null)))
                .containsExactly("ALTER TABLE public.\"Order Items\" DROP COLUMN extra");
        ColumnInfo qty = new ColumnInfo("qty", "bigint", java.sql.Types.BIGINT, true, null, false, false, true);
        assertThat(PgAlter.statements(t, new ColumnChange(ColumnChange.Kind.TYPE, "qty", qty, "integer", null)))
                .containsExactly("ALTER TABLE public.\"Order Items\" ALTER COLUMN qty TYPE bigint USING qty::bigint");
        assertThat(PgAlter.statements(t, new ColumnChange(ColumnChange.Kind.RENAME, "b", note, "text", "a")))
                .containsExactly("ALTER TABLE public.\"Order Items\" RENAME COLUMN a TO b");
    }
}
