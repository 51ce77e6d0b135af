package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.store.AuditEntry;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * One abort procedure: a migration that aborts by itself (an abort threshold crossed) and one aborted by the operator
 * ({@code tandem abort}) end in the same state — rolled_back through rolling_back, audited alike, the slot and the
 * publication gone from the source. And the stream of a migration whose id is longer than a slot name may be is the
 * one {@code tandem plan} names.
 */
class AbortIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "abort-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL)",
                "INSERT INTO items SELECT g, g FROM generate_series(1, 2000) g", "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void aThresholdAbortAndTandemAbortLeaveTheSameState() throws Exception {
        String store = dir.resolve("store").toString();
        Path byThreshold = manifest("aborts-itself", "abort_thresholds: {drift_rows: 0}");
        Path byOperator = manifest("aborted-by-operator", "");

        CompletableFuture<CliRun> first = migrate(byThreshold, store);
        StoreWait.catchUp(store, ENV, "aborts-itself", first);
        try (Connection t = TARGET.server().connect("t_aborts_itself", "migrator", PW)) {
            t.createStatement().execute("UPDATE items SET v = -1 WHERE id = 1500"); // drift behind the stream
        }
        CliRun aborted = first.get(3, TimeUnit.MINUTES);
        assertThat(aborted.exitCode()).as(aborted.all()).isEqualTo(1);

        CompletableFuture<CliRun> second = migrate(byOperator, store);
        StoreWait.catchUp(store, ENV, "aborted-by-operator", second);
        CliRun abort = CliRun.of(ENV, "abort", "aborted-by-operator", "--store", store);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
        second.get(2, TimeUnit.MINUTES);

        try (ControlStore cs = ControlStore.open(store, ENV::get)) {
            for (String id : List.of("aborts-itself", "aborted-by-operator")) {
                assertThat(cs.migrations().get(id).status().state()).as(id).isEqualTo(MigrationState.ROLLED_BACK);
                List<AuditEntry> audit = cs.audit().list(id);
                List<AuditEntry> last = audit.subList(audit.size() - 2, audit.size());
                assertThat(last).as(id).extracting(a -> a.to().state())
                        .containsExactly(MigrationState.ROLLING_BACK, MigrationState.ROLLED_BACK);
                assertThat(last.get(1).detail()).as(id)
                        .isEqualTo("nothing routed to the target before cutover; stream dropped");
                assertThat(sourceHas("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", id)).as(id).isFalse();
                assertThat(sourceHas("SELECT 1 FROM pg_publication WHERE pubname = ?", id)).as(id).isFalse();
            }
            AuditEntry threshold = rollingBack(cs.audit().list("aborts-itself"));
            assertThat(threshold.actor()).isEqualTo("tandem (abort_thresholds)");
            assertThat(threshold.detail()).startsWith("abort threshold drift_rows crossed: ");
            assertThat(rollingBack(cs.audit().list("aborted-by-operator")).actor()).isNotBlank();
        }
    }

    @Test
    void aLongIdStreamsOnTheSlotThePlanNames() throws Exception {
        String id = "orders-" + "x".repeat(36) + "-to-the-new-cluster"; // 62 characters
        String store = dir.resolve("store-long").toString();
        Path manifest = manifest(id, "");
        String slot = Streams.name(id, StreamDirection.FORWARD);
        assertThat(slot.length()).isLessThanOrEqualTo(63);

        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("publication and logical replication slot " + slot + " ")
                .contains("may create the publication " + slot + " for every table in scope");

        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, id, migrate);
        assertThat(sourceHas("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", id)).isTrue();
        assertThat(sourceHas("SELECT 1 FROM pg_publication WHERE pubname = ?", id)).isTrue();
        CliRun abort = CliRun.of(ENV, "abort", id, "--store", store);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
        migrate.get(2, TimeUnit.MINUTES);
        assertThat(sourceHas("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", id)).isFalse();
    }

    private static AuditEntry rollingBack(List<AuditEntry> audit) {
        return audit.stream().filter(a -> a.to() != null && a.to().state() == MigrationState.ROLLING_BACK)
                .findFirst().orElseThrow();
    }

    private static boolean sourceHas(String sql, String id) throws SQLException {
        try (Connection s = SOURCE.server().connect(); PreparedStatement ps = s.prepareStatement(sql)) {
            ps.setString(1, Streams.name(id, StreamDirection.FORWARD));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private CompletableFuture<CliRun> migrate(Path manifest, String store) {
        return CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store",
                store));
    }

    private Path manifest(String id, String extra) throws Exception {
        String db = "t_" + id.replaceAll("[^a-z0-9]", "_");
        db = db.length() > 60 ? db.substring(0, 60) : db;
        TARGET.server().execute("CREATE DATABASE " + db);
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl(db) + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [items]}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {stop_when: manual}",
                "validation: {continuous: true, rows_per_second: 50000}",
                extra, ""));
        return file;
    }
}
