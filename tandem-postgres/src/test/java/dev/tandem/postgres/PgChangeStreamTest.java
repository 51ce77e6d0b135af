package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.spi.TableRef;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PgChangeStreamTest {

    @Test
    void theIncludeListHasNoCommaAndEachPatternMatchesOnlyItsTable() {
        List<TableRef> refs = List.of(new TableRef("s", "comma,name"), new TableRef("s", "a.b"),
                new TableRef("s", "x{1,3}"), new TableRef("s", "😀"), new TableRef("Mixed Case", "q\"uote"),
                new TableRef("s", "back\\slash"), new TableRef("s", "[x]|y"));
        String list = PgChangeStream.includeList(refs);
        String[] patterns = list.split(",");
        assertThat(patterns).hasSize(refs.size());
        for (int i = 0; i < refs.size(); i++) {
            Pattern p = Pattern.compile(patterns[i], Pattern.CASE_INSENSITIVE);
            TableRef r = refs.get(i);
            assertThat(p.matcher(r.schema() + "." + r.name()).matches()).as(patterns[i]).isTrue();
            assertThat(p.matcher(r.schema() + "." + r.name() + "x").matches()).as(patterns[i]).isFalse();
            assertThat(p.matcher(r.schema() + "x" + r.name()).matches()).as(patterns[i]).isFalse();
        }
    }

    @Test
    void tablesThatJoinToOneNameAreFoundForPreflightToRefuse() {
        List<TableRef> refs = List.of(new TableRef("s", "x.t"), new TableRef("s.x", "t"), new TableRef("s", "x_t"),
                new TableRef("s", "Upper"), new TableRef("s", "upper"));
        assertThat(PgChangeStream.readAlike(refs)).containsExactly(List.of(new TableRef("s", "x.t"),
                new TableRef("s.x", "t")));
    }
}
