package dev.tandem.core.types;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PgArraysTest {

    @Test
    void writesAnArrayAsPostgresPrintsItAndReadsItBack() {
        assertThat(PgArrays.format(List.of())).isEqualTo("{}");
        assertThat(PgArrays.format(List.of("gift", "rush"))).isEqualTo("{gift,rush}");
        assertThat(PgArrays.format(List.of("a b", "", "null", "x\"y", "back\\slash", "{b}", "ü")))
                .isEqualTo("{\"a b\",\"\",\"null\",\"x\\\"y\",\"back\\\\slash\",\"{b}\",ü}");
        for (List<String> l : List.of(List.<String>of(), List.of("gift"), List.of("a b", "", "NULL", "x\"y", "\\",
                "{b}", "ü", " lead"))) {
            assertThat(PgArrays.parse(PgArrays.format(l))).isEqualTo(l);
        }
        assertThat(PgArrays.parse(" { a , \"b c\" } ")).containsExactly("a", "b c");
    }

    @Test
    void refusesWhatIsNotAOneDimensionalArrayOfTexts() {
        assertThatThrownBy(() -> PgArrays.parse("a,b")).hasMessageContaining("is not an array");
        assertThatThrownBy(() -> PgArrays.parse("{a,NULL}")).hasMessageContaining("holds a NULL element");
        assertThatThrownBy(() -> PgArrays.parse("{{a},{b}}")).hasMessageContaining("one-dimensional");
        assertThatThrownBy(() -> PgArrays.parse("{\"a}")).hasMessageContaining("unclosed quote");
    }
}
