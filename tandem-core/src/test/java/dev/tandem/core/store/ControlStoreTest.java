package dev.tandem.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.lifecycle.LifecycleEvent;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.lifecycle.Phase;
import dev.tandem.core.lifecycle.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded control store (H2 file database). The same store on PostgreSQL is tested in tandem-postgres. */
class ControlStoreTest {
    @TempDir
    Path dir;
    private ControlStore store;

    @BeforeEach
    void open() {
        store = ControlStore.open(dir.resolve("store").toString(), Map.<String, String>of()::get);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void theEmbeddedStoreIsItsOwnersOnlyAndOpensOnlyWithItsKey() throws Exception {
        Path store = dir.resolve("store");
        assertThat(Files.getPosixFilePermissions(store)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        try (var files = Files.list(store)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(Files.getPosixFilePermissions(f)).as(f.toString())
                        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            }
        }
        String key = Files.readString(store.resolve("store.key"));
        assertThat(key).hasSizeGreaterThanOrEqualTo(32);
        assertThatThrownBy(() -> DriverManager.getConnection(EmbeddedStore.url(store), "tandem", "").close())
                .isInstanceOf(SQLException.class).hasMessageContaining("Wrong user name or password");
    }

    /**
     * Two processes opening a new store at once (a tandem migrate and a tandem status polling for it) must agree on
     * its key: a key replaced after the database was made with the other one locked everyone else out ("Wrong user
     * name or password"; seen once as a NamesIT time-out).
     */
    @Test
    void openersOfANewStoreAgreeOnItsKey() throws Exception {
        for (int round = 0; round < 20; round++) {
            Path fresh = dir.resolve("fresh-" + round);
            Files.createDirectories(fresh);
            java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(4);
            java.util.List<java.util.concurrent.CompletableFuture<String>> keys = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                keys.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        together.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return EmbeddedStore.prepare(fresh);
                }));
            }
            java.util.Set<String> distinct = new java.util.HashSet<>();
            for (var k : keys) {
                distinct.add(k.get());
            }
            assertThat(distinct).as("keys handed out in round " + round).hasSize(1);
            assertThat(Files.readString(fresh.resolve("store.key"))).isEqualTo(distinct.iterator().next());
        }
    }

    @Test
    void aStoreMadeWithTheOldEmptyPasswordGetsAKeyAndAHandMadeDirectoryIsMadeOwnerOnly() throws Exception {
        Path old = dir.resolve("old");
        Files.createDirectories(old);
        Files.setPosixFilePermissions(old, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Connection c = DriverManager.getConnection(EmbeddedStore.url(old), "tandem", "")) {
            c.createStatement().execute("CREATE SCHEMA legacy");
            c.createStatement().execute("CREATE TABLE legacy.kept (x int)");
        }
        Files.setPosixFilePermissions(old.resolve("store.mv.db"), PosixFilePermissions.fromString("rw-r--r--"));
        try (ControlStore reopened = ControlStore.open(old.toString(), Map.<String, String>of()::get)) {
            assertThat(reopened.migrations().list()).isEmpty();
        }
        assertThat(Files.getPosixFilePermissions(old)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(old.resolve("store.mv.db")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThatThrownBy(() -> DriverManager.getConnection(EmbeddedStore.url(old), "tandem", "").close())
                .isInstanceOf(SQLException.class);
        String key = Files.readString(old.resolve("store.key"));
        try (Connection c = DriverManager.getConnection(EmbeddedStore.url(old), "tandem", key)) {
            assertThat(c.createStatement().executeQuery("SELECT count(*) FROM legacy.kept").next()).isTrue();
        }
    }

    @Test
    void createsAMigrationPendingWithAnAuditRow() {
        MigrationRecord m = store.migrations().create("orders", "move orders", "{\"id\":\"orders\"}", "alice");
        assertThat(m.status()).isEqualTo(new Status(MigrationState.PENDING, Phase.PREPARE));
        MigrationRecord read = store.migrations().get("orders");
        assertThat(read.uuid()).isEqualTo(m.uuid());
        assertThat(read.manifest()).isEqualTo("{\"id\":\"orders\"}");
        assertThat(store.audit().list("orders")).singleElement().satisfies(a -> {
            assertThat(a.actor()).isEqualTo("alice");
            assertThat(a.action()).isEqualTo("create");
            assertThat(a.to()).isEqualTo(Status.INITIAL);
        });
    }

    @Test
    void refusesADuplicateIdAndAnUnknownOne() {
        store.migrations().create("orders", null, "{}", "alice");
        assertThatThrownBy(() -> store.migrations().create("orders", null, "{}", "bob"))
                .isInstanceOfSatisfying(TandemException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_STATE))
                .hasMessage("migration orders already exists (state pending/prepare); choose another id");
        assertThatThrownBy(() -> store.migrations().get("nope"))
                .isInstanceOfSatisfying(TandemException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void walksTheLifecycleWithAnAuditRowPerTransition() {
        store.migrations().create("m", null, "{}", "alice");
        store.migrations().transition("m", LifecycleEvent.CONFIGURE, null, "alice", null);
        store.migrations().transition("m", LifecycleEvent.START, null, "alice", null);
        store.migrations().transition("m", LifecycleEvent.ADVANCE, Phase.BACKFILL, "engine", "schema prepared");
        store.migrations().transition("m", LifecycleEvent.PAUSE, null, "bob", "maintenance");
        MigrationRecord m = store.migrations().transition("m", LifecycleEvent.RESUME, null, "bob", null);
        assertThat(m.status()).isEqualTo(new Status(MigrationState.RUNNING, Phase.BACKFILL));
        assertThat(m.version()).isEqualTo(6);
        assertThat(store.audit().list("m")).extracting(AuditEntry::action)
                .containsExactly("create", "configure", "start", "advance", "pause", "resume");
        assertThat(store.audit().list("m").get(4).detail()).isEqualTo("maintenance");
    }

    @Test
    void anIllegalTransitionNamesExpectedAndActualAndChangesNothing() {
        store.migrations().create("m", null, "{}", "alice");
        assertThatThrownBy(() -> store.migrations().transition("m", LifecycleEvent.PAUSE, null, "bob", null))
                .isInstanceOfSatisfying(TandemException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_STATE))
                .hasMessage("cannot pause migration m: expected state running, actual pending");
        assertThatThrownBy(() -> store.migrations().transition("m", new Status(MigrationState.READY, Phase.PREPARE),
                LifecycleEvent.START, null, "bob", null))
                .hasMessage("cannot start migration m: expected ready/prepare, actual pending/prepare");
        assertThat(store.migrations().get("m").version()).isEqualTo(1);
        assertThat(store.audit().list("m")).hasSize(1);
    }

    @Test
    void racingTransitionsLetExactlyOneWin() throws Exception {
        store.migrations().create("m", null, "{}", "alice");
        store.migrations().transition("m", LifecycleEvent.CONFIGURE, null, "alice", null);
        int racers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(racers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            String actor = "racer" + i;
            results.add(pool.submit(() -> {
                go.await();
                try {
                    store.migrations().transition("m", new Status(MigrationState.READY, Phase.PREPARE),
                            LifecycleEvent.START, null, actor, null);
                    return true;
                } catch (TandemException e) {
                    assertThat(e.code()).isEqualTo(ErrorCode.BAD_STATE);
                    return false;
                }
            }));
        }
        go.countDown();
        int wins = 0;
        for (Future<Boolean> f : results) {
            wins += f.get() ? 1 : 0;
        }
        pool.shutdown();
        assertThat(wins).isEqualTo(1);
        assertThat(store.audit().list("m")).extracting(AuditEntry::action).containsExactly("create", "configure", "start");
    }

    @Test
    void updatesTheManifestOnlyAtTheExpectedVersion() {
        MigrationRecord m = store.migrations().create("m", "a", "{\"v\":1}", "alice");
        MigrationRecord updated = store.migrations().updateManifest("m", m.version(), "b", "{\"v\":2}", "bob", "canary 25%");
        assertThat(updated.manifest()).isEqualTo("{\"v\":2}");
        assertThatThrownBy(() -> store.migrations().updateManifest("m", m.version(), "c", "{\"v\":3}", "carol", null))
                .hasMessageContaining("expected version 1, actual 2");
        assertThat(store.audit().list("m")).extracting(AuditEntry::action).containsExactly("create", "update");
    }

    @Test
    void tracksRunsAndChunksWithSeed003Statuses() {
        store.migrations().create("m", null, "{}", "alice");
        RunRecord run = store.runs().create(new Runs.NewRun("m", RunRecord.Kind.BACKFILL, null, null, null, "first", 0), List.of(
                ChunkRecord.planned("public.orders", 0, null, "[1000]"),
                ChunkRecord.planned("public.orders", 1, "[1001]", null)));
        assertThat(run.status()).isEqualTo(RunStatus.NOT_STARTED);
        store.runs().setStatus(run.runId(), RunStatus.NOT_STARTED, RunStatus.STARTED);

        assertThat(store.runs().markChunk(chunk(run, 0), ChunkStatus.NOT_STARTED,
                ChunkStatus.STARTED, 0, 0, null)).isTrue();
        assertThat(store.runs().markChunk(chunk(run, 0), ChunkStatus.NOT_STARTED,
                ChunkStatus.STARTED, 0, 0, null)).as("a chunk is taken once").isFalse();
        assertThat(store.runs().markChunk(chunk(run, 0), ChunkStatus.STARTED, ChunkStatus.PASS,
                1000, 64_000, null)).isTrue();
        store.runs().markChunk(chunk(run, 1), ChunkStatus.NOT_STARTED, ChunkStatus.STARTED, 0, 0, null);
        store.runs().markChunk(chunk(run, 1), ChunkStatus.STARTED, ChunkStatus.FAIL, 0, 0,
                "connection lost");

        assertThat(store.runs().chunks(run.runId(), ChunkStatus.FAIL)).singleElement().satisfies(c -> {
            assertThat(c.keyMin()).isEqualTo("[1001]");
            assertThat(c.error()).isEqualTo("connection lost");
            assertThat(c.attempts()).isEqualTo(1);
        });
        assertThat(store.runs().chunks(run.runId(), null)).extracting(ChunkRecord::status)
                .containsExactly(ChunkStatus.PASS, ChunkStatus.FAIL);
        assertThat(store.runs().chunks(run.runId(), null).stream().filter(c -> c.status().isRedoneByNextRun()))
                .extracting(ChunkRecord::chunkNo).containsExactly(1);

        store.runs().setStatus(run.runId(), RunStatus.STARTED, RunStatus.ENDED);
        RunRecord ended = store.runs().find(run.runId()).orElseThrow();
        assertThat(ended.endedAt()).isNotNull();
        assertThatThrownBy(() -> store.runs().setStatus(run.runId(), RunStatus.STARTED, RunStatus.ENDED))
                .hasMessageContaining("expected STARTED, actual ENDED");

        RunRecord second = store.runs().create(new Runs.NewRun("m", RunRecord.Kind.BACKFILL, run.runId(), null, null, null, 0),
                List.of());
        assertThat(second.runId()).isGreaterThan(run.runId());
        assertThat(store.runs().list("m")).extracting(RunRecord::runId).containsExactly(second.runId(), run.runId());
    }

    @Test
    void keepsStartAndConfirmedPositions() {
        store.migrations().create("m", null, "{}", "alice");
        store.positions().open("m", StreamDirection.FORWARD, "lsn", "0/16B3748");
        store.positions().confirm("m", StreamDirection.FORWARD, "0/16B9000", "{\"lsn\":\"0/16B9000\"}");
        StreamPosition p = store.positions().find("m", StreamDirection.FORWARD).orElseThrow();
        assertThat(p.start()).isEqualTo("0/16B3748");
        assertThat(p.confirmed()).isEqualTo("0/16B9000");
        assertThat(store.positions().find("m", StreamDirection.REVERSE)).isEmpty();
        assertThatThrownBy(() -> store.positions().confirm("m", StreamDirection.REVERSE, "x", null))
                .hasMessageContaining("expected an open stream, actual none");
    }

    @Test
    void survivesReopeningAndServesASecondStoreOnTheSameDirectory() {
        store.migrations().create("m", null, "{}", "alice");
        store.close();
        store = ControlStore.open(dir.resolve("store").toString(), Map.<String, String>of()::get);
        assertThat(store.migrations().get("m").status().state()).isEqualTo(MigrationState.PENDING);
        try (ControlStore second = ControlStore.open(dir.resolve("store").toString(), Map.<String, String>of()::get)) {
            second.migrations().transition("m", LifecycleEvent.CONFIGURE, null, "bob", null);
        }
        assertThat(store.migrations().get("m").status().state()).isEqualTo(MigrationState.READY);
    }

    /**
     * Two stores on one directory in one process (an in-process {@code tandem stop} polling while the migrate it
     * stops ends) share H2's database: when it closes under the one still open, that one's pooled connection is dead
     * for good ("The database has been closed", 90098). Retried on the same connection (the pool does not check a
     * connection used in the last half second) it failed every try for a minute; it must be dropped and the store
     * reopened.
     */
    @Test
    void aDatabaseClosedUnderAnOpenStoreIsReopenedNotRetriedOnADeadConnection() throws Exception {
        store.migrations().create("m", null, "{}", "alice");
        Path files = dir.resolve("store");
        Connection c = DriverManager.getConnection(EmbeddedStore.url(files), EmbeddedStore.USER,
                Files.readString(files.resolve("store.key")).trim());
        try (java.sql.Statement st = c.createStatement()) {
            st.execute("SHUTDOWN"); // closes the database under every session of this process, this one's too
        }
        long started = System.nanoTime();
        assertThat(store.migrations().get("m").status().state()).isEqualTo(MigrationState.PENDING);
        store.migrations().transition("m", LifecycleEvent.CONFIGURE, null, "bob", null);
        assertThat(store.migrations().get("m").status().state()).isEqualTo(MigrationState.READY);
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - started))
                .as("reopened, not retried until the hand-over wait ran out")
                .isLessThan(EmbeddedStore.HAND_OVER_WAIT);
    }

    @Test
    void choosesItsLocationFromFlagThenEnvironmentThenDefault() {
        assertThat(ControlStore.location("/x", Map.of("TANDEM_STORE", "/y")::get)).isEqualTo("/x");
        assertThat(ControlStore.location(null, Map.of("TANDEM_STORE", "/y")::get)).isEqualTo("/y");
        assertThat(ControlStore.location(null, Map.<String, String>of()::get)).isEqualTo(".tandem");
        assertThatThrownBy(() -> ControlStore.open("jdbc:mysql://h/db?password=x", Map.<String, String>of()::get))
                .hasMessage("store jdbc:mysql://h/db?password=****** is not supported; use a directory for the "
                        + "embedded store, or a jdbc:postgresql: URL");
    }

    private ChunkRecord chunk(RunRecord run, int chunkNo) {
        return store.runs().chunks(run.runId(), null).stream().filter(c -> c.chunkNo() == chunkNo).findFirst()
                .orElseThrow();
    }
}
