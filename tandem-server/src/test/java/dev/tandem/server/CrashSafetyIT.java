package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.store.ChunkRecord;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.store.StreamPosition;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of {@code tandem migrate} (the runnable jar in a child JVM) at random moments of the copy and the catch-up
 * while a pgbench-like workload writes to the source, with the default embedded store and with a PostgreSQL store;
 * then deterministic kills right after the run's plan is printed and between a chunk's commit on the target and its
 * status in the store. After every kill, what the process had printed is in the store (its run with every planned
 * chunk, at least the chunks its progress counted) and the store's stream position is at or past the slot's
 * confirmed_flush_lsn; each migration is resumed as README says and ends with an independent comparison of every
 * table.
 * <p>The test never holds the embedded store open while a child runs: the first process to open an H2 store serves
 * it to the others, and a store served by the test JVM would survive the child's kill whatever the child did.
 */
class CrashSafetyIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "crash-pw";
    private static final String STORE_PW = "store-pw";
    private static final Pattern RUN = Pattern.compile("Run (\\d+): copying (\\d+) chunks");
    private static final Pattern PROGRESS = Pattern.compile("^  (\\S+) \\[[#-]+\\] .* (\\d+)/(\\d+) chunks ",
            Pattern.MULTILINE);
    private static final List<String[]> TABLES = List.of(new String[] {"public.pgbench_accounts", "aid"},
            new String[] {"public.pgbench_branches", "bid"}, new String[] {"public.pgbench_tellers", "tid"},
            new String[] {"public.pgbench_history", "id"});

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88))",
                "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance int NOT NULL, "
                        + "filler char(84))",
                "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, "
                        + "filler char(84))",
                "CREATE TABLE pgbench_history (id bigserial PRIMARY KEY, tid int, bid int, aid int, delta int, "
                        + "mtime timestamptz DEFAULT now(), filler char(22))",
                "INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, 20) g",
                "INSERT INTO pgbench_tellers SELECT g, 1 + (g - 1) / 10, 0, '' FROM generate_series(1, 200) g",
                "INSERT INTO pgbench_accounts SELECT g, 1 + (g - 1) / 10000, 0, '' FROM generate_series(1, 200000) g",
                "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE ROLE tandem LOGIN PASSWORD '" + STORE_PW + "'", "CREATE DATABASE tandem_store OWNER tandem");
    }

    /** Where a test's control store lives, and what a process needs to open it. */
    private enum StoreKind {
        EMBEDDED, POSTGRES;

        String location(Path dir, String id) {
            return this == EMBEDDED ? dir.resolve("store-" + id).toString() : TARGET.server().jdbcUrl("tandem_store");
        }

        Map<String, String> env() {
            Map<String, String> env = new HashMap<>(Map.of("PW", PW));
            if (this == POSTGRES) {
                env.put(ControlStore.ENV_USER, "tandem");
                env.put(ControlStore.ENV_PASSWORD, STORE_PW);
            }
            return env;
        }

        /** A plain connection to the store, for locking its rows while a child runs (the owner's key file). */
        Connection connect(String location) throws SQLException, java.io.IOException {
            Path dir = Path.of(location).toAbsolutePath();
            return this == EMBEDDED
                    ? DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("store") + ";AUTO_SERVER=TRUE",
                            "tandem", Files.readString(dir.resolve("store.key")))
                    : DriverManager.getConnection(location, "tandem", STORE_PW);
        }
    }

    @Test
    void killedAtRandomMomentsWithTheEmbeddedStoreEndsEqual() throws Exception {
        killLoop("crash-h2", StoreKind.EMBEDDED);
    }

    @Test
    void killedAtRandomMomentsWithAPostgresStoreEndsEqual() throws Exception {
        killLoop("crash-pg", StoreKind.POSTGRES);
    }

    @Test
    void aRunPrintedJustBeforeTheKillIsStoredWithAllItsChunks() throws Exception {
        String id = "crash-plan";
        StoreKind kind = StoreKind.EMBEDDED;
        String store = kind.location(dir, id);
        Path manifest = manifest(id, "manual");
        try (Workload writer = Workload.start()) {
            Path log = dir.resolve(id + "-0.log");
            Process child = ChildMigrate.start(manifest, store, log, kind.env());
            Matcher run = awaitLog(child, log, RUN);
            child.destroyForcibly(); // the moment "Run N: copying M chunks" is printed
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String text = Files.readString(log);
            checkAfterKill(id, kind, store, text);
            try (ControlStore cs = ControlStore.open(store, kind.env()::get)) {
                RunRecord r = cs.runs().get(Long.parseLong(run.group(1)));
                assertThat(cs.runs().chunks(r.runId(), ChunkStatus.PASS)).as("killed before any chunk copied")
                        .isEmpty();
            }
            // README: run it again with the run id it printed
            resumeUntilStreaming(id, kind, store, manifest, 1, "--prev-run", run.group(1));
            assertThat(writer.ops()).as("the workload wrote meanwhile").isGreaterThan(100);
        }
        finishAndCompare(id, kind, store, manifest);
    }

    @Test
    void aChunkCommittedOnTheTargetBeforeItsStatusWasStoredIsCopiedAgainWithTheEmbeddedStore() throws Exception {
        killBetweenChunkCommitAndStatus("crash-chunk-h2", StoreKind.EMBEDDED);
    }

    @Test
    void aChunkCommittedOnTheTargetBeforeItsStatusWasStoredIsCopiedAgainWithAPostgresStore() throws Exception {
        killBetweenChunkCommitAndStatus("crash-chunk-pg", StoreKind.POSTGRES);
    }

    /**
     * A store put back from an older copy is behind the slot, which the stream had confirmed further since: the
     * start is refused with both positions and the way out (instead of Debezium's "no longer available"), and the way
     * out works.
     */
    @Test
    void aStoreRestoredFromAnOlderCopyIsRefusedNamingBothPositions() throws Exception {
        String id = "crash-restored";
        StoreKind kind = StoreKind.EMBEDDED;
        String store = kind.location(dir, id);
        Path manifest = manifest(id, "manual");
        Path backup = dir.resolve("store-backup");
        try (Workload writer = Workload.start()) {
            resumeUntilStreaming(id, kind, store, manifest, 1);
            copy(Path.of(store), backup);
            String backedUp;
            try (ControlStore cs = ControlStore.open(backup.toString(), kind.env()::get)) {
                backedUp = cs.positions().find(id, StreamDirection.FORWARD).orElseThrow().confirmed();
            }
            // the stream runs on until the source's slot is confirmed past what the copy of the store holds
            Path log = dir.resolve(id + "-on.log");
            Process child = ChildMigrate.start(manifest, store, log, kind.env());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (slotAhead(id, backedUp) <= 0) {
                assertThat(child.isAlive()).as(Files.readString(log)).isTrue();
                assertThat(System.nanoTime()).as("the slot moved past " + backedUp).isLessThan(deadline);
                Thread.sleep(100);
            }
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(writer.ops()).as("the workload wrote meanwhile").isGreaterThan(0);
        }
        try (var files = Files.walk(Path.of(store))) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        copy(backup, Path.of(store));
        CliRun resumed = java.util.concurrent.CompletableFuture.supplyAsync(() -> CliRun.of(kind.env(), "migrate",
                "-f", manifest.toString(), "--store", store)).get(3, TimeUnit.MINUTES); // refused, not streaming
        assertThat(resumed.exitCode()).as(resumed.all()).isEqualTo(3);
        assertThat(resumed.err()).containsPattern("cannot resume the forward stream of crash-restored: the control "
                + "store .* holds position [0-9A-F]+/[0-9A-F]+, behind [0-9A-F]+/[0-9A-F]+, the position "
                + Streams.name("crash-restored", StreamDirection.FORWARD) + " was confirmed to on its source")
                .contains("Way out: abort the migration (tandem abort crash-restored)")
                .doesNotContain("no longer available");
        CliRun abort = CliRun.of(kind.env(), "abort", id, "--store", store);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Statement st = s.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
                     + Streams.name("crash-restored", StreamDirection.FORWARD) + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).as("the slot was dropped").isZero();
        }
    }

    /** Bytes the source's slot of {@code id} is confirmed past {@code position}. */
    private static long slotAhead(String id, String position) throws SQLException {
        try (Connection s = SOURCE.server().connect(); PreparedStatement ps = s.prepareStatement("SELECT "
                + "pg_wal_lsn_diff(confirmed_flush_lsn, ?::pg_lsn) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, position);
            ps.setString(2, Streams.name(id, StreamDirection.FORWARD));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private static void copy(Path from, Path to) throws Exception {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    /**
     * At least five kills land in the copy and five in the catch-up, each at a random moment of a child's life;
     * every child is started as README says (tandem migrate -f MANIFEST, which continues the newest run).
     */
    private void killLoop(String id, StoreKind kind) throws Exception {
        String store = kind.location(dir, id);
        Path manifest = manifest(id, "manual");
        long seed = System.nanoTime();
        Random random = new Random(seed);
        int inCopy = 0;
        int inCatchUp = 0;
        StringBuilder moments = new StringBuilder("seed " + seed + ":");
        try (Workload writer = Workload.start()) {
            for (int kill = 0; inCopy < 5 || inCatchUp < 5; kill++) {
                assertThat(kill).as("kills so far (" + moments + ")").isLessThan(24);
                Path log = dir.resolve(id + "-" + kill + ".log");
                long started = System.nanoTime();
                Process child = ChildMigrate.start(manifest, store, log, kind.env());
                // every fourth kill lands anywhere in the process's first seconds (preflight, tables, slot, plan);
                // the others a random moment after it started copying (or, five copy kills done, streaming)
                if (kill % 4 != 3) {
                    awaitLog(child, log, inCopy < 5 ? Pattern.compile("Run \\d+: copying|Streaming changes until")
                            : Pattern.compile("Streaming changes until"));
                }
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(kill % 4 == 3
                        ? 300 + random.nextInt(4000) : random.nextInt(2500));
                while (System.nanoTime() < deadline) {
                    assertThat(child.isAlive()).as("child " + kill + " ended by itself:\n" + Files.readString(log))
                            .isTrue();
                    Thread.sleep(10);
                }
                child.destroyForcibly();
                long lifetime = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                String text = Files.readString(log);
                String where = text.contains("Streaming changes until") ? "catch-up"
                        : RUN.matcher(text).find() ? "copy" : "prepare";
                inCopy += where.equals("copy") ? 1 : 0;
                inCatchUp += where.equals("catch-up") ? 1 : 0;
                moments.append(' ').append(lifetime).append(" ms (").append(where).append(')');
                checkAfterKill(id, kind, store, text);
            }
            assertThat(writer.ops()).as("the workload kept writing").isGreaterThan(1000);
        }
        System.out.println(id + " kills: " + moments);
        finishAndCompare(id, kind, store, manifest);
    }

    /**
     * Holds the store's rows of the chunks being copied (SELECT ... FOR UPDATE), waits until one of them is committed
     * on the target, and kills the process while its PASS waits for the row: the chunk is on the target, its status
     * STARTED. The resume copies it again, deleting the range first.
     */
    private void killBetweenChunkCommitAndStatus(String id, StoreKind kind) throws Exception {
        String store = kind.location(dir, id);
        Path manifest = manifest(id, "manual");
        try (Workload writer = Workload.start()) {
            Path log = dir.resolve(id + "-0.log");
            Process child = ChildMigrate.start(manifest, store, log, kind.env());
            long runId = Long.parseLong(awaitLog(child, log, RUN).group(1));
            String[] held = null;
            try (Connection st = kind.connect(store); Connection t = TARGET.server().connect(target(id), "migrator",
                    PW)) {
                st.setAutoCommit(false);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (held == null) {
                    assertThat(System.nanoTime()).as("a chunk of accounts started").isLessThan(deadline);
                    assertThat(child.isAlive()).as(Files.readString(log)).isTrue();
                    held = lockStartedChunk(st, runId);
                    if (held == null) {
                        st.rollback();
                        Thread.sleep(5);
                    }
                }
                while (rowsInRange(t, held) == 0) {
                    assertThat(System.nanoTime()).as("chunk " + held[0] + " committed on the target")
                            .isLessThan(deadline);
                    Thread.sleep(5);
                }
                child.destroyForcibly(); // committed on the target; its PASS waits for the row the test holds
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                try {
                    st.rollback();
                } catch (SQLException gone) {
                    // the embedded store was served by the killed process
                }
            }
            checkAfterKill(id, kind, store, Files.readString(log));
            try (ControlStore cs = ControlStore.open(store, kind.env()::get)) {
                int chunkNo = Integer.parseInt(held[0]);
                ChunkRecord c = cs.runs().chunks(runId, null).stream().filter(x -> x.tableName().equals(
                        "public.pgbench_accounts") && x.chunkNo() == chunkNo).findFirst().orElseThrow();
                assertThat(c.status()).as("committed on the target, not marked").isEqualTo(ChunkStatus.STARTED);
            }
            resumeUntilStreaming(id, kind, store, manifest, 1);
            assertThat(writer.ops()).isGreaterThan(100);
        }
        finishAndCompare(id, kind, store, manifest);
    }

    /** Locks the store row of one STARTED chunk of accounts whose range is still empty on the target. */
    private static String[] lockStartedChunk(Connection store, long runId) throws SQLException {
        try (PreparedStatement ps = store.prepareStatement("SELECT chunk_no, key_min, key_max FROM tandem_chunks "
                + "WHERE run_id = ? AND table_name = 'public.pgbench_accounts' AND status = 'STARTED' FOR UPDATE")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new String[] {rs.getString(1), rs.getString(2), rs.getString(3)} : null;
            }
        }
    }

    private static long rowsInRange(Connection target, String[] chunk) throws SQLException {
        String lower = chunk[1] == null ? "" : " AND aid > " + chunk[1].replaceAll("[\\[\\]\"]", "");
        String upper = chunk[2] == null ? "" : " AND aid <= " + chunk[2].replaceAll("[\\[\\]\"]", "");
        try (Statement s = target.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pgbench_accounts WHERE true" + lower + upper)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return 0; // not created yet
            }
            throw e;
        }
    }

    /**
     * What a killed process printed is what the store holds: the run it announced, with every chunk it was planned
     * with; at least the chunks its last progress block counted as done; and a stream position at or past the one
     * the slot was confirmed to.
     */
    private void checkAfterKill(String id, StoreKind kind, String store, String log) throws Exception {
        try (ControlStore cs = ControlStore.open(store, kind.env()::get)) {
            Matcher run = RUN.matcher(log);
            int runAt = -1;
            String runId = null;
            String planned = null;
            while (run.find()) {
                runAt = run.end();
                runId = run.group(1);
                planned = run.group(2);
            }
            if (runId != null) {
                Optional<RunRecord> r = cs.runs().find(Long.parseLong(runId));
                assertThat(r).as("run " + runId + " was printed before the kill:\n" + log).isPresent();
                assertThat(r.get().chunksPlanned()).isEqualTo(Integer.parseInt(planned));
                List<ChunkRecord> chunks = cs.runs().chunks(r.get().runId(), null);
                assertThat(chunks).as("every chunk of run " + runId).hasSize(Integer.parseInt(planned));
                Map<String, Integer> reported = new HashMap<>();
                Matcher p = PROGRESS.matcher(log.substring(runAt));
                while (p.find()) {
                    reported.put(p.group(1), Integer.parseInt(p.group(2)));
                }
                String printed = runId;
                reported.forEach((table, done) -> assertThat(chunks.stream().filter(c -> c.tableName().equals(table)
                        && c.status() == ChunkStatus.PASS).count()).as("PASS chunks of " + table + " in run " + printed
                        + " (the process reported " + done + ")").isGreaterThanOrEqualTo(done));
            }
            Optional<StreamPosition> position = cs.positions().find(id, StreamDirection.FORWARD);
            if (position.isPresent()) {
                try (Connection s = SOURCE.server().connect();
                     PreparedStatement ps = s.prepareStatement("SELECT confirmed_flush_lsn::text, "
                             + "pg_wal_lsn_diff(confirmed_flush_lsn, ?::pg_lsn) FROM pg_replication_slots "
                             + "WHERE slot_name = ?")) {
                    ps.setString(1, position.get().confirmed());
                    ps.setString(2, Streams.name(id, StreamDirection.FORWARD));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).as("the slot exists while the stream position is stored").isTrue();
                        assertThat(rs.getLong(2)).as("slot confirmed to " + rs.getString(1) + ", store at "
                                + position.get().confirmed()).isLessThanOrEqualTo(0);
                    }
                }
            }
        }
    }

    /**
     * Runs the migration in a child until it streams in catch-up, lets it stream {@code seconds} more, and kills it.
     */
    private void resumeUntilStreaming(String id, StoreKind kind, String store, Path manifest, int seconds,
                                      String... more) throws Exception {
        Path log = dir.resolve(id + "-resume.log");
        Process child = ChildMigrate.start(manifest, store, log, kind.env(), more);
        awaitLog(child, log, Pattern.compile("Streaming changes until"));
        Thread.sleep(seconds * 1000L);
        child.destroyForcibly();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        checkAfterKill(id, kind, store, Files.readString(log));
    }

    /** The workload has stopped: the last run, in_sync, completes; then every table is compared row for row. */
    private void finishAndCompare(String id, StoreKind kind, String store, Path manifest) throws Exception {
        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun last = CliRun.of(kind.env(), "migrate", "-f", manifest.toString(), "--store", store);
        assertThat(last.exitCode()).as(last.all()).isZero();
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect(target(id), "migrator",
                PW)) {
            for (String[] table : TABLES) {
                TableComparison.assertEqual(s, t, table[0], table[1]);
            }
        }
    }

    private Path manifest(String id, String stopWhen) throws Exception {
        TARGET.server().execute("CREATE DATABASE " + target(id));
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl(target(id)) + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history]}",
                "data: {type: scan, chunk_rows: 4000, parallelism: 2, rows_per_second: 12000}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {stop_when: " + stopWhen + "}", ""));
        return file;
    }

    private static String target(String id) {
        return "t_" + id.replace('-', '_');
    }

    private static Matcher awaitLog(Process child, Path log, Pattern pattern) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = pattern.matcher(text);
            if (m.find()) {
                return m;
            }
            assertThat(child.isAlive()).as("still running:\n" + text).isTrue();
            assertThat(System.nanoTime()).as("printed " + pattern + ":\n" + text).isLessThan(deadline);
            Thread.sleep(2);
        }
    }

    /**
     * pgbench's TPC-B transaction (account, teller and branch balances, a history row) at a few hundred per second,
     * and every tenth an account deleted and another inserted.
     */
    private static final class Workload implements AutoCloseable {
        /** Keys of inserted accounts, unique across the workloads of all tests (they share the source). */
        private static final AtomicLong NEW_KEYS = new AtomicLong(1_000_000);
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong ops = new AtomicLong();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Thread thread = new Thread(this::run, "pgbench-like");

        static Workload start() {
            Workload w = new Workload();
            w.thread.start();
            return w;
        }

        long ops() {
            return ops.get();
        }

        private void run() {
            Random r = new Random(11);
            try (Connection c = SOURCE.server().connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    long n = ops.incrementAndGet();
                    int aid = 1 + r.nextInt(200000);
                    int tid = 1 + r.nextInt(200);
                    int bid = 1 + r.nextInt(20);
                    int delta = r.nextInt(10001) - 5000;
                    st.execute("UPDATE pgbench_accounts SET abalance = abalance + " + delta + " WHERE aid = " + aid);
                    st.execute("UPDATE pgbench_tellers SET tbalance = tbalance + " + delta + " WHERE tid = " + tid);
                    st.execute("UPDATE pgbench_branches SET bbalance = bbalance + " + delta + " WHERE bid = " + bid);
                    st.execute("INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (" + tid + ", " + bid + ", "
                            + aid + ", " + delta + ")");
                    if (n % 10 == 0) {
                        st.execute("DELETE FROM pgbench_accounts WHERE aid = " + (1 + r.nextInt(200000)));
                        st.execute("INSERT INTO pgbench_accounts VALUES (" + NEW_KEYS.incrementAndGet() + ", 1, "
                                + delta + ", 'new')");
                    }
                    c.commit();
                    Thread.sleep(2);
                }
            } catch (SQLException | RuntimeException e) {
                failure.set(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() throws Exception {
            stop.set(true);
            thread.join();
            assertThat(failure.get()).as("the workload").isNull();
        }
    }
}
