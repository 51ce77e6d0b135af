package dev.tandem.core.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkGatesTest {
    private static final List<KeyColumn> ID = List.of(new KeyColumn("id", "bigint"));

    @TempDir
    Path dir;

    private static Change upsert(String table, long id, String v) {
        return new Change(Change.Kind.UPSERT, table, List.of(String.valueOf(id)), List.of("id", "v"),
                List.of(String.valueOf(id), v), "0/1", null, null);
    }

    private ChunkGates gates(long memory) {
        ChunkGates g = new ChunkGates(dir, memory, 3);
        g.addTable("t", ID, List.of(
                new ChunkGates.ChunkSpec(0, new KeyRange(ID, null, false, List.of("100"))),
                new ChunkGates.ChunkSpec(1, new KeyRange(ID, List.of("100"), false, List.of("200")))));
        return g;
    }

    @Test
    void dropsForChunksNotStartedHoldsForStartedAppliesForPassedAndBeyondTheLastBound() throws Exception {
        ChunkGates g = gates(1 << 20);
        assertThat(g.route(upsert("t", 50, "a"))).isEqualTo(ChunkGates.Route.DROP);
        g.started("t", 0);
        assertThat(g.route(upsert("t", 100, "b"))).isEqualTo(ChunkGates.Route.HELD);
        assertThat(g.route(upsert("t", 101, "c"))).isEqualTo(ChunkGates.Route.DROP);
        assertThat(g.route(upsert("t", 201, "d"))).as("beyond the last chunk").isEqualTo(ChunkGates.Route.APPLY);
        assertThat(g.route(upsert("other", 1, "e"))).isEqualTo(ChunkGates.Route.APPLY);
        List<String> replayed = new ArrayList<>();
        g.committed("t", 0, (changes, scope) -> changes.forEach(c -> replayed.add(c.values().get(1))));
        assertThat(replayed).containsExactly("b");
        assertThat(g.route(upsert("t", -5, "f"))).isEqualTo(ChunkGates.Route.APPLY);
        assertThat(g.allPassed()).isFalse();
        g.started("t", 1);
        g.committed("t", 1, (changes, scope) -> { });
        assertThat(g.allPassed()).isTrue();
        assertThat(g.held()).isZero();
    }

    @Test
    void spillsPastTheMemoryBudgetAndReplaysInOrder() throws Exception {
        ChunkGates g = gates(500);
        g.started("t", 1);
        for (int i = 0; i < 50; i++) {
            assertThat(g.route(upsert("t", 150, "v" + i + (i % 7 == 0 ? null : "\ttab")))).isEqualTo(ChunkGates.Route.HELD);
        }
        assertThat(g.held()).isEqualTo(50);
        List<String> replayed = new ArrayList<>();
        List<Integer> batches = new ArrayList<>();
        g.committed("t", 1, (changes, scope) -> {
            batches.add(changes.size());
            changes.forEach(c -> replayed.add(c.values().get(1)));
        });
        assertThat(replayed).hasSize(50).startsWith("v0null", "v1\ttab").endsWith("v48\ttab", "v49null");
        assertThat(batches).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(3));
        assertThat(g.held()).isZero();
    }

    @Test
    void aTextKeyIsGatedAsAWholeTableUntilItsLastChunkPasses() throws Exception {
        List<KeyColumn> code = List.of(new KeyColumn("code", "text"));
        ChunkGates g = new ChunkGates(dir, 1 << 20, 100);
        g.addTable("w", code, List.of(new ChunkGates.ChunkSpec(0, new KeyRange(code, null, false, List.of("m"))),
                new ChunkGates.ChunkSpec(1, new KeyRange(code, List.of("m"), false, null))));
        Change c = new Change(Change.Kind.DELETE, "w", List.of("zebra"), List.of(), List.of(), "0/2", null, null);
        assertThat(g.route(c)).isEqualTo(ChunkGates.Route.HELD);
        List<Change> replayed = new ArrayList<>();
        g.committed("w", 0, (changes, scope) -> replayed.addAll(changes));
        assertThat(replayed).as("not before the last chunk").isEmpty();
        g.committed("w", 1, (changes, scope) -> replayed.addAll(changes));
        assertThat(replayed).containsExactly(c);
        assertThat(g.route(c)).isEqualTo(ChunkGates.Route.APPLY);
    }

    @Test
    void foldsABatchToOneChangePerKeyAsIfAppliedInOrder() {
        Change full = upsert("t", 1, "a");
        Change partial = new Change(Change.Kind.PARTIAL_UPDATE, "t", List.of("1"), List.of("id", "v"),
                List.of("1", "b"), "0/3", null, null);
        Change delete = new Change(Change.Kind.DELETE, "t", List.of("2"), List.of(), List.of(), "0/4", null, null);
        Change truncate = new Change(Change.Kind.TRUNCATE, "u", List.of(), List.of(), List.of(), "0/5", null, null);
        List<ChangeReducer.TableBatch> out = ChangeReducer.reduce(List.of(upsert("u", 9, "gone"), full,
                upsert("t", 2, "x"), partial, delete, truncate, upsert("u", 10, "kept")));
        assertThat(out).hasSize(2);
        ChangeReducer.TableBatch t = out.stream().filter(b -> b.table().equals("t")).findFirst().orElseThrow();
        assertThat(t.truncateFirst()).isFalse();
        assertThat(t.changes()).hasSize(2);
        assertThat(t.changes().get(0).kind()).isEqualTo(Change.Kind.UPSERT);
        assertThat(t.changes().get(0).values()).containsExactly("1", "b");
        assertThat(t.changes().get(1).kind()).isEqualTo(Change.Kind.DELETE);
        ChangeReducer.TableBatch u = out.stream().filter(b -> b.table().equals("u")).findFirst().orElseThrow();
        assertThat(u.truncateFirst()).isTrue();
        assertThat(u.changes()).extracting(c -> c.values().get(1)).containsExactly("kept");
    }
}
