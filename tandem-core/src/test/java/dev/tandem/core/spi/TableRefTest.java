package dev.tandem.core.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TableRefTest {
    private static final List<TableRef> HOSTILE = List.of(
            new TableRef("s", "x.t"), new TableRef("s.x", "t"), new TableRef("s", "x"), new TableRef("s", "comma,name"),
            new TableRef("s", "x;y"), new TableRef("s", "x_y"), new TableRef("s", "q\"uote"), new TableRef("s", "\""),
            new TableRef("s", "with space"), new TableRef("s", " lead"), new TableRef("s", "trail "),
            new TableRef("s", "Upper"), new TableRef("s", "upper"), new TableRef("s", "😀"), new TableRef("s", "Ü"),
            new TableRef("s", "Ö"), new TableRef("s", ""), new TableRef("s", "\"x.t\""), new TableRef("S.\"", ".t"));

    @Test
    void theQualifiedTextIsOneToOneWithTheSchemaAndTablePair() {
        Set<String> texts = new HashSet<>();
        for (TableRef t : HOSTILE) {
            assertThat(texts.add(t.qualified())).as("%s collides", t.qualified()).isTrue();
            assertThat(TableRef.parse(t.qualified(), "public")).as(t.qualified()).isEqualTo(t);
        }
    }

    @Test
    void plainNamesStayBareAndQuotedOnesAreRead() {
        assertThat(new TableRef("public", "Orders").qualified()).isEqualTo("public.Orders");
        assertThat(new TableRef("s", "x.t").qualified()).isEqualTo("s.\"x.t\"");
        assertThat(new TableRef("s.x", "t").qualified()).isEqualTo("\"s.x\".t");
        assertThat(TableRef.parse("\"My Schema\".\"Orders\"", "public")).isEqualTo(new TableRef("My Schema", "Orders"));
        assertThat(TableRef.parse("orders", "public")).isEqualTo(new TableRef("public", "orders"));
    }
}
