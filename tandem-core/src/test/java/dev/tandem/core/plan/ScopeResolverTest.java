package dev.tandem.core.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.Scope;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.TableRef;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScopeResolverTest {
    private static final List<TableRef> SOURCE = List.of(new TableRef("public", "customers"),
            new TableRef("public", "orders"), new TableRef("public", "order_items"), new TableRef("audit", "events"),
            new TableRef("public", "Mixed"));

    @Test
    void resolvesListedTablesInTheDefaultSchemaAndNamesAMissingOneWithTheClosest() {
        ScopeResolver.Resolution r = ScopeResolver.resolve(new Scope(List.of("orders", "audit.events", "public.orderz",
                "public.mixed"), List.of(), List.of()), SOURCE, "public");
        assertThat(r.tables()).containsExactly(new TableRef("audit", "events"), new TableRef("public", "orders"));
        assertThat(r.findings()).extracting(Finding::message).containsExactly(
                "scope.tables[2]: table public.orderz not found on source",
                "scope.tables[3]: table public.mixed not found on source");
        assertThat(r.findings()).extracting(Finding::fix).containsExactly("did you mean public.orders?",
                "did you mean public.Mixed?");
    }

    @Test
    void includesAndExcludesByPattern() {
        ScopeResolver.Resolution r = ScopeResolver.resolve(new Scope(List.of(), List.of("public.order*", "events"),
                List.of("*.order_items")), SOURCE, "public");
        assertThat(r.tables()).containsExactly(new TableRef("audit", "events"), new TableRef("public", "orders"));
        assertThat(r.findings()).isEmpty();
    }

    @Test
    void takesEveryTableWithoutAScopeAndWarnsAboutAPatternThatMatchesNothing() {
        assertThat(ScopeResolver.resolve(Scope.ALL, SOURCE, "public").tables()).hasSize(5);
        ScopeResolver.Resolution r = ScopeResolver.resolve(new Scope(List.of(), List.of("sales.*", "public.orders"),
                List.of()), SOURCE, "public");
        assertThat(r.findings()).singleElement().satisfies(f -> {
            assertThat(f.severity()).isEqualTo(Finding.Severity.WARNING);
            assertThat(f.message()).isEqualTo("scope.include[0]: 'sales.*' matches no table on source");
        });
    }

    @Test
    void anEmptyScopeIsAnError() {
        ScopeResolver.Resolution r = ScopeResolver.resolve(Scope.ALL, List.of(), "public");
        assertThat(r.findings()).singleElement().extracting(Finding::isError).isEqualTo(true);
    }
}
