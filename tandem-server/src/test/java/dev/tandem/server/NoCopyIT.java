package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code data: none} (seed 000's {@code initial_load: skip}) copies no row: the target keeps the baseline the operator
 * loaded and the stream applies every change from P0 onto it, under a concurrent writer. Rows the writer touched end
 * equal to the source's; rows it never touched keep the baseline's values (which differ on purpose, so a copy would
 * show). Once copied every row anyway and overwrote such a baseline.
 */
class NoCopyIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "nc-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final int ROWS = 3_000;
    /** The writer touches ids up to this one (and new ids past ROWS); the rest keep the baseline. */
    private static final int TOUCHED = 300;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, g FROM generate_series(1, " + ROWS + ") g", "ANALYZE");
        // the operator's baseline: every row, with a balance the source never had
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, -1 FROM generate_series(1, " + ROWS + ") g");
    }

    @Test
    void noRowIsCopiedAndEveryChangeFromP0LandsOnTheBaseline() throws Exception {
        Path manifest = dir.resolve("nocopy.yaml");
        Files.writeString(manifest, String.join("\n", "id: nocopy",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [public.accounts]}", "schema: existing",
                "migration: {initial_load: {enabled: false}}", // seed 000's block: data none
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "validation: {continuous: false}",
                "continuous: {stop_when: manual}", ""));
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.out()).contains("Copy no existing rows (data: none)");

        String store = dir.resolve("store").toString();
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f",
                manifest.toString(), "--store", store));
        StoreWait.catchUp(store, ENV, "nocopy", migrate);
        SourceWriter writer = new SourceWriter(SOURCE.server(), 5) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                int id = r.nextInt(10) < 8 ? 1 + r.nextInt(TOUCHED) : ROWS + 1 + r.nextInt(200);
                st.execute(r.nextInt(10) < 8 ? "INSERT INTO accounts VALUES (" + id + ", " + n + ") ON CONFLICT "
                        + "(id) DO UPDATE SET balance = EXCLUDED.balance" : "DELETE FROM accounts WHERE id = " + id);
                if (n % 20 == 0) {
                    Thread.sleep(5);
                }
            }
        }.start();
        Thread.sleep(3_000);
        assertThat(writer.stopAndJoin()).isNull();
        assertThat(writer.ops.get()).isGreaterThan(100);

        // the touched rows (and the new ones) as on the source; every other row as the baseline left it
        String touched = "id <= " + TOUCHED + " OR id > " + ROWS;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        TableComparison.Result r;
        do {
            try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
                r = TableComparison.compare(s, t, "accounts", "id", touched);
            }
            if (!r.equal()) {
                Thread.sleep(500);
            }
        } while (!r.equal() && System.nanoTime() < deadline);
        assertThat(r.equal()).as("the rows the stream changed: %s", r).isTrue();
        try (Connection t = TARGET.server().connect(); Statement st = t.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), count(*) FILTER (WHERE balance = -1) FROM accounts "
                     + "WHERE id > " + TOUCHED + " AND id <= " + ROWS)) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(ROWS - TOUCHED);
            assertThat(rs.getLong(2)).as("untouched rows keep the baseline: nothing was copied").isEqualTo(
                    ROWS - TOUCHED);
        }
        CliRun stop = CliRun.of(ENV, "stop", "nocopy", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = migrate.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
        assertThat(run.all()).contains("data: none: no existing row is copied").doesNotContain("chunks with");
    }
}
