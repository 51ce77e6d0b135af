package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.backfill.ChunkPlanner;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Chunk plans on real tables: every row in exactly one chunk, chunks near chunk_rows even when keys cluster. */
class ChunkPlannerIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> PG = DatabaseExtension.postgres();

    @BeforeAll
    static void tables() {
        PG.server().execute(
                // 10,000 ids spread over 1..1,000,000 and 90,000 packed at the top: equal widths would be lopsided
                "CREATE TABLE skewed (id bigint PRIMARY KEY)",
                "INSERT INTO skewed SELECT g * 100 FROM generate_series(1, 10000) g",
                "INSERT INTO skewed SELECT 2000000 + g FROM generate_series(1, 90000) g",
                "CREATE TABLE words (w text PRIMARY KEY)",
                "INSERT INTO words SELECT x || g FROM generate_series(1, 6000) g, unnest(ARRAY['a', 'B', 'é', 'Z']) x",
                "CREATE TABLE pairs (a int, b text, PRIMARY KEY (a, b))",
                "INSERT INTO pairs SELECT g % 13, 'k' || g FROM generate_series(1, 30000) g",
                "CREATE TABLE never_analyzed (id int PRIMARY KEY)",
                "INSERT INTO never_analyzed SELECT generate_series(1, 20000)",
                "ANALYZE skewed", "ANALYZE words", "ANALYZE pairs");
    }

    @Test
    void balancesAnIntegerKeyWhoseValuesCluster() throws Exception {
        List<Long> counts = plannedCounts("skewed", 10_000, null);
        assertThat(counts.stream().mapToLong(Long::longValue).sum()).isEqualTo(100_000);
        assertThat(counts).hasSizeBetween(8, 30);
        assertThat(counts).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(3 * 10_000));
    }

    @Test
    void splitsTextAndCompositeKeysAtSampledKeysInTheirCollation() throws Exception {
        List<Long> words = plannedCounts("words", 3_000, null);
        assertThat(words.stream().mapToLong(Long::longValue).sum()).isEqualTo(24_000);
        assertThat(words).hasSizeGreaterThanOrEqualTo(6).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(6_000));
        List<Long> pairs = plannedCounts("pairs", 5_000, null);
        assertThat(pairs.stream().mapToLong(Long::longValue).sum()).isEqualTo(30_000);
        assertThat(pairs).hasSizeGreaterThanOrEqualTo(4).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(10_000));
    }

    @Test
    void estimatesATableThatWasNeverAnalyzedAndRestrictsToARange() throws Exception {
        assertThat(plannedCounts("never_analyzed", 5_000, null).stream().mapToLong(Long::longValue).sum())
                .isEqualTo(20_000);
        try (Connection c = PG.server().connect()) {
            TableInfo t = new PostgresIntrospector().describe(c, new TableRef("public", "never_analyzed")).orElseThrow();
            KeyRange within = new KeyRange(t.keyColumns(), List.of("101"), true, List.of("1100"));
            List<Long> counts = plannedCounts("never_analyzed", 300, within);
            assertThat(counts.stream().mapToLong(Long::longValue).sum()).isEqualTo(1000);
            assertThat(counts).hasSizeGreaterThanOrEqualTo(3);
        }
    }

    /** Plans the table and counts, in the database, the rows in each planned range. */
    private static List<Long> plannedCounts(String table, int chunkRows, KeyRange within) throws Exception {
        List<Long> counts = new ArrayList<>();
        try (Connection c = PG.server().connect()) {
            TableInfo t = new PostgresIntrospector().describe(c, new TableRef("public", table)).orElseThrow();
            List<ChunkPlanner.PlannedChunk> plan = new ChunkPlanner(new PostgresKeySampler(), chunkRows)
                    .plan(c, t, within);
            PgSession.configure(c);
            for (ChunkPlanner.PlannedChunk p : plan) {
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table + PgSql.where(p.range()))) {
                    rs.next();
                    counts.add(rs.getLong(1));
                }
            }
        }
        return counts;
    }
}
