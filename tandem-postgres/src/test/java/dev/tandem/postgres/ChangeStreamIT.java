package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.cdc.StreamApplier;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Secret;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The PostgreSQL change stream end to end at the SPI: a slot and publication, Debezium streaming from it, changes
 * applied to a second database. Every kind of change reaches the target; positions are confirmed; an idle source's
 * slot still moves.
 */
class ChangeStreamIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> PG = DatabaseExtension.postgres();

    private static final String OWNER = "tandem migration it";
    private static final String TABLE_DDL = "CREATE TABLE items (id bigint PRIMARY KEY, name text, big text, "
            + "n numeric(20,4), ts timestamptz, tsn timestamp, d date, t time, iv interval, tags text[], ints int[], "
            + "b bytea, f float8, r real, j jsonb, u uuid, ok boolean, bits bit(5))";

    @BeforeAll
    static void databases() {
        PG.server().execute("CREATE DATABASE target", TABLE_DDL, "CREATE TABLE notes (k text PRIMARY KEY, v int)");
        try (Connection t = PG.server().connect("target", EmbeddedPostgres.SUPERUSER, PG.server().superuserPassword());
             Statement st = t.createStatement()) {
            st.execute(TABLE_DDL);
            st.execute("CREATE TABLE notes (k text PRIMARY KEY, v int)");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void streamsEveryKindOfChangeToTheTargetAndConfirmsPositions() throws Exception {
        Endpoint source = endpoint(PG.server().jdbcUrl());
        Endpoint target = endpoint(PG.server().jdbcUrl("target"));
        PostgresConnector src = new PostgresConnector(source);
        PostgresConnector tgt = new PostgresConnector(target);
        ChangeCapture capture = src.changeCapture().orElseThrow();
        List<TableInfo> tables = new ArrayList<>();
        Map<String, ChangeApplier.ApplyTable> apply = new HashMap<>();
        try (Connection s = src.connect(); Connection t = tgt.connect()) {
            for (String name : List.of("items", "notes")) {
                TableInfo info = src.introspector().describe(s, new TableRef("public", name)).orElseThrow();
                TableInfo ti = tgt.introspector().describe(t, new TableRef("public", name)).orElseThrow();
                tables.add(info);
                apply.put(info.ref().qualified(), new ChangeApplier.ApplyTable(ti, info.copiedColumns(),
                        ConflictResolution.Strategy.SOURCE_WINS, null));
            }
            String p0 = capture.open(s, "tandem_it", OWNER, tables.stream().map(TableInfo::ref).toList());
            assertThat(capture.open(s, "tandem_it", OWNER, tables.stream().map(TableInfo::ref).toList())).isEqualTo(p0);
        }
        AtomicReference<String> confirmed = new AtomicReference<>();
        AtomicReference<String> offsets = new AtomicReference<>();
        ChangeCapture.OffsetStore store = new ChangeCapture.OffsetStore() {
            @Override
            public Optional<String> load() {
                return Optional.ofNullable(offsets.get());
            }

            @Override
            public void save(String o, String position) {
                offsets.set(o);
                confirmed.set(position);
            }
        };
        StreamApplier applier = new StreamApplier(tgt, tgt.changeApplier().orElseThrow(), apply, w -> { });
        ChangeCapture.ChangeStream stream = capture.start(new ChangeCapture.StreamSpec("tandem_it", tables,
                Duration.ofMillis(500), 1024, store, applier, false));
        try {
            PG.server().execute(
                    "INSERT INTO items SELECT g, 'n' || g, NULL, g * 1.5, now(), '2024-02-29 10:11:12.123456', "
                            + "'2024-01-31', '23:59:59.5', '1 year 2 mons 3 days 04:05:06.7', ARRAY['a', NULL, 'c\"q'], "
                            + "ARRAY[1, 2], '\\x00ff10'::bytea, 1.0 / 3, 0.1, '{\"k\": [1, 2]}', "
                            + "md5(g::text)::uuid, g % 2 = 0, B'10110' FROM generate_series(1, 500) g",
                    "UPDATE items SET name = 'changed', f = 'NaN' WHERE id % 10 = 0",
                    "UPDATE items SET big = (SELECT string_agg(md5(x::text), '') FROM generate_series(1, 400) x) "
                            + "WHERE id <= 20",
                    // TOAST: big stays out of these updates' images
                    "UPDATE items SET name = 'toast kept' WHERE id <= 10",
                    "UPDATE items SET id = id + 100000 WHERE id BETWEEN 21 AND 30",
                    "DELETE FROM items WHERE id BETWEEN 31 AND 40",
                    "INSERT INTO notes SELECT 'k' || g, g FROM generate_series(1, 50) g",
                    "TRUNCATE notes",
                    "INSERT INTO notes VALUES ('after truncate', 1)");
            try (Connection s = src.connect()) {
                capture.fence(s, "fence-1");
            }
            assertThat(applier.awaitFence("fence-1", 60, TimeUnit.SECONDS)).as("fence applied").isTrue();
            try (Connection s = PG.server().connect();
                 Connection t = PG.server().connect("target", EmbeddedPostgres.SUPERUSER,
                         PG.server().superuserPassword())) {
                TableComparison.assertEqual(s, t, "items", "id");
                TableComparison.assertEqual(s, t, "notes", "k");
            }
            // positions are confirmed after the apply; an idle source's slot still moves on heartbeats
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (confirmed.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(confirmed.get()).isNotNull();
            String before = slotFlush();
            PG.server().execute("CREATE TABLE unrelated (x int)", "INSERT INTO unrelated SELECT generate_series(1, 1000)");
            String walAfterWrites;
            try (Connection s = src.connect()) {
                walAfterWrites = capture.currentPosition(s);
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (capture.distance(slotFlush(), walAfterWrites) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(capture.distance(before, slotFlush())).as("slot flush moved past unrelated WAL").isPositive();
            assertThat(capture.distance(slotFlush(), walAfterWrites)).isZero();
            assertThat(stream.failure()).isEmpty();
        } finally {
            stream.close();
            applier.close(false);
            try (Connection s = src.connect()) {
                capture.drop(s, "tandem_it", OWNER);
                try (Statement st = s.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isZero();
                }
            }
        }
    }

    /**
     * keepTransactions: every source transaction ends with a COMMIT change, and a transaction split over batches is
     * not confirmed in part: a stream stopped after the first batch of a 3000-row transaction delivers that whole
     * transaction again after a restart (with group commit only its rest would come).
     */
    @Test
    void keepsSourceTransactionsWholeAcrossBatchesAndRestarts() throws Exception {
        PostgresConnector src = new PostgresConnector(endpoint(PG.server().jdbcUrl()));
        ChangeCapture capture = src.changeCapture().orElseThrow();
        PG.server().execute("CREATE TABLE ledger (k text PRIMARY KEY, v int)");
        List<TableInfo> tables;
        try (Connection s = src.connect()) {
            tables = List.of(src.introspector().describe(s, new TableRef("public", "ledger")).orElseThrow());
            capture.open(s, "tandem_tx", OWNER, List.of(tables.get(0).ref()));
        }
        AtomicReference<String> offsets = new AtomicReference<>();
        ChangeCapture.OffsetStore store = new ChangeCapture.OffsetStore() {
            @Override
            public Optional<String> load() {
                return Optional.ofNullable(offsets.get());
            }

            @Override
            public void save(String o, String position) {
                offsets.set(o);
            }
        };
        List<Change> first = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        ChangeCapture.ChangeStream stream = capture.start(new ChangeCapture.StreamSpec("tandem_tx", tables,
                Duration.ofSeconds(30), 1024, store, batch -> {
                    if (first.stream().anyMatch(c -> c.key().size() == 1 && c.key().get(0).startsWith("big"))) {
                        stopped.countDown();
                        return false; // the sink stops after the first part of the big transaction
                    }
                    first.addAll(batch);
                    return true;
                }, true));
        try {
            PG.server().execute("INSERT INTO ledger VALUES ('small1', 1)",
                    "INSERT INTO ledger SELECT 'big' || g, g FROM generate_series(1, 3000) g",
                    "INSERT INTO ledger VALUES ('small2', 2)");
            assertThat(stopped.await(60, TimeUnit.SECONDS)).as("the stream reached the big transaction").isTrue();
        } finally {
            stream.close();
        }
        List<String> firstRun = shape(first);
        assertThat(firstRun.get(0)).isEqualTo("small1");
        assertThat(firstRun.get(1)).isEqualTo("COMMIT");
        long bigSeen = firstRun.stream().filter(k -> k.startsWith("big")).count();
        assertThat(bigSeen).as("the first run saw part of the big transaction").isBetween(1L, 2999L);

        List<Change> second = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        stream = capture.start(new ChangeCapture.StreamSpec("tandem_tx", tables, Duration.ofSeconds(30), 1024, store,
                batch -> {
                    second.addAll(batch);
                    if (shape(second).contains("small2")
                            && second.get(second.size() - 1).kind() == Change.Kind.COMMIT) {
                        done.countDown();
                    }
                    return true;
                }, true));
        try {
            assertThat(done.await(60, TimeUnit.SECONDS)).as("the restarted stream reached small2").isTrue();
        } finally {
            stream.close();
            try (Connection s = src.connect()) {
                capture.drop(s, "tandem_tx", OWNER);
            }
        }
        List<String> secondRun = shape(second);
        List<String> expected = new ArrayList<>();
        for (int g = 1; g <= 3000; g++) {
            expected.add("big" + g);
        }
        expected.addAll(List.of("COMMIT", "small2", "COMMIT"));
        assertThat(secondRun).as("the big transaction again from its start, then small2").isEqualTo(expected);
    }

    /**
     * The keys of data changes and COMMIT for transaction ends, in order; heartbeats and table shapes left out, and
     * so are transactions without data changes (a restart writes one, its start marker).
     */
    private static List<String> shape(List<Change> changes) {
        List<String> out = new ArrayList<>();
        synchronized (changes) {
            for (Change c : changes) {
                if (c.kind() == Change.Kind.COMMIT) {
                    if (!out.isEmpty() && !out.get(out.size() - 1).equals("COMMIT")) {
                        out.add("COMMIT");
                    }
                } else if (c.kind() != Change.Kind.MARKER && c.kind() != Change.Kind.SCHEMA) {
                    out.add(c.key().get(0));
                }
            }
        }
        return out;
    }

    /**
     * A stream's slot and publication are recorded as their migration's: another owner (a migration whose id hashes
     * alike, another store's migration of the same id, a slot someone else made) neither takes nor drops them.
     */
    @Test
    void aStreamOwnedByAnotherMigrationIsNeitherTakenNorDropped() throws Exception {
        PostgresConnector src = new PostgresConnector(endpoint(PG.server().jdbcUrl()));
        ChangeCapture capture = src.changeCapture().orElseThrow();
        List<TableRef> tables = List.of(new TableRef("public", "notes"));
        try (Connection s = src.connect()) {
            String p0 = capture.open(s, "tandem_owned", "tandem migration a-b", tables);
            assertThat(capture.open(s, "tandem_owned", "tandem migration a-b", tables)).isEqualTo(p0);
            assertThatThrownBy(() -> capture.open(s, "tandem_owned", "tandem migration a_b", tables))
                    .isInstanceOf(TandemException.class)
                    .hasMessageContaining("belongs to \"tandem migration a-b\", not to \"tandem migration a_b\"")
                    .hasMessageContaining("SELECT pg_drop_replication_slot('tandem_owned')");
            capture.drop(s, "tandem_owned", "tandem migration a_b");
            assertThat(count(s, "pg_replication_slots WHERE slot_name = 'tandem_owned'")).isOne();
            assertThat(count(s, "pg_publication WHERE pubname = 'tandem_owned'")).isOne();
            capture.drop(s, "tandem_owned", "tandem migration a-b");
            assertThat(count(s, "pg_replication_slots WHERE slot_name = 'tandem_owned'")).isZero();
            assertThat(count(s, "pg_publication WHERE pubname = 'tandem_owned'")).isZero();

            // a slot with no publication of Tandem's is not Tandem's
            try (Statement st = s.createStatement()) {
                st.execute("SELECT pg_create_logical_replication_slot('tandem_bare', 'pgoutput')");
            }
            assertThatThrownBy(() -> capture.open(s, "tandem_bare", "tandem migration x", tables))
                    .hasMessageContaining("belongs to something not recorded as a Tandem migration");
            capture.drop(s, "tandem_bare", "tandem migration x");
            assertThat(count(s, "pg_replication_slots WHERE slot_name = 'tandem_bare'")).isOne();
            try (Statement st = s.createStatement()) {
                st.execute("SELECT pg_drop_replication_slot('tandem_bare')");
            }
        }
    }

    /**
     * Each change names its own table, exactly: tables Debezium's derived strings confuse — a comma in a name (its
     * table list is split on commas), names that make one topic ({@code x;y} and {@code x_y}, {@code Ü} and
     * {@code Ö}), a dot in a name — each get their own changes and only those. ({@code n."x.t"} and {@code "n.x".t}
     * in one stream Debezium cannot tell apart; preflight refuses that pair, PgChangeStreamTest.)
     */
    @Test
    void everyChangeNamesItsOwnTableWhateverTheNames() throws Exception {
        List<TableRef> refs = List.of(new TableRef("n", "comma,name"), new TableRef("n", "x;y"),
                new TableRef("n", "x_y"), new TableRef("n", "x.t"), new TableRef("n.y", "t"), new TableRef("n", "Ü"),
                new TableRef("n", "Ö"), new TableRef("n", "😀"));
        List<String> ddl = new ArrayList<>(List.of("CREATE SCHEMA n", "CREATE SCHEMA \"n.y\""));
        for (TableRef r : refs) {
            ddl.add("CREATE TABLE " + PgSql.table(r) + " (id int PRIMARY KEY, v text)");
        }
        PG.server().execute(ddl.toArray(String[]::new));
        PostgresConnector src = new PostgresConnector(endpoint(PG.server().jdbcUrl()));
        ChangeCapture capture = src.changeCapture().orElseThrow();
        List<TableInfo> tables = new ArrayList<>();
        try (Connection s = src.connect()) {
            for (TableRef r : refs) {
                tables.add(src.introspector().describe(s, r).orElseThrow());
            }
            capture.open(s, "tandem_names", OWNER, refs);
        }
        Map<String, List<String>> seen = new java.util.concurrent.ConcurrentHashMap<>();
        ChangeCapture.OffsetStore offsets = new ChangeCapture.OffsetStore() {
            private volatile String o;

            @Override
            public Optional<String> load() {
                return Optional.ofNullable(o);
            }

            @Override
            public void save(String offsets, String position) {
                o = offsets;
            }
        };
        ChangeCapture.ChangeStream stream = capture.start(new ChangeCapture.StreamSpec("tandem_names", tables,
                Duration.ofMillis(500), 1024, offsets, batch -> {
                    for (Change c : batch) {
                        if (c.kind() != Change.Kind.MARKER && c.kind() != Change.Kind.COMMIT
                                && c.kind() != Change.Kind.SCHEMA) {
                            seen.computeIfAbsent(c.table(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                                    .add(c.kind() + " " + c.key().get(0));
                        }
                    }
                    return true;
                }, false));
        try {
            List<String> writes = new ArrayList<>();
            for (int i = 0; i < refs.size(); i++) {
                writes.add("INSERT INTO " + PgSql.table(refs.get(i)) + " SELECT g, 'v' FROM generate_series("
                        + (i * 100 + 1) + ", " + (i * 100 + 3) + ") g");
                writes.add("UPDATE " + PgSql.table(refs.get(i)) + " SET v = 'w' WHERE id = " + (i * 100 + 2));
                writes.add("DELETE FROM " + PgSql.table(refs.get(i)) + " WHERE id = " + (i * 100 + 3));
            }
            PG.server().execute(writes.toArray(String[]::new));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (seen.values().stream().mapToInt(List::size).sum() < refs.size() * 5 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            for (int i = 0; i < refs.size(); i++) {
                int base = i * 100;
                assertThat(seen.get(refs.get(i).qualified())).as(refs.get(i).qualified())
                        .containsExactly("UPSERT " + (base + 1), "UPSERT " + (base + 2), "UPSERT " + (base + 3),
                                "UPSERT " + (base + 2), "DELETE " + (base + 3));
            }
            assertThat(seen).hasSize(refs.size());
        } finally {
            stream.close();
            try (Connection s = src.connect()) {
                capture.drop(s, "tandem_names", OWNER);
            }
        }
    }

    private static int count(Connection c, String fromWhere) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + fromWhere)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String slotFlush() throws Exception {
        try (Connection c = PG.server().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                     + "WHERE slot_name = 'tandem_it'")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Endpoint endpoint(String url) {
        return new Endpoint(url, EmbeddedPostgres.SUPERUSER, Secret.of(PG.server().superuserPassword()), Map.of());
    }
}
