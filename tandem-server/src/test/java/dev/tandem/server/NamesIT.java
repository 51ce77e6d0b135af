package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names that break derived strings, migrated through the CLI with a change stream under a concurrent writer and
 * compared row for row at the end: a comma (Debezium splits its table list on commas), names that map to one Debezium
 * topic ({@code x;y} and {@code x_y}, {@code Ü} and {@code Ö}), a dot inside a name, quotes, spaces, upper and
 * lower case twins, a 4-byte character and PostgreSQL keywords as table and column names. {@code hostile."x.t"} and
 * {@code "hostile.x".t}, which Debezium cannot tell apart, are refused in one migration by {@code tandem plan} (seen
 * before: one table's changes applied to the other, and the continuous verifier repairing it, so only the first table
 * ended wrong). And two migrations whose ids fold alike ({@code a-b}, {@code a_b}) stream side by side from one
 * source; aborting one leaves the other streaming.
 */
class NamesIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "names-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final int ROWS = 300;
    /** Each hostile table as SQL. */
    private static final List<String> HOSTILE = List.of("hostile.\"comma,name\"", "hostile.\"x;y\"", "hostile.x_y",
            "hostile.\"x.t\"", "hostile.\"Ü\"", "hostile.\"Ö\"", "hostile.\"😀\"",
            "hostile.\"Upper\"", "hostile.upper", "hostile.\"with space\"", "hostile.\"q\"\"uote\"",
            "hostile.\"left\"", "hostile.\"join\"", "hostile.\"is\"", "hostile.\"similar\"",
            "\"Mixed Case\".\"select\"");
    private static final String COLUMNS = "(id int PRIMARY KEY, \"left\" int, \"v,1\" text, \"Similar\" text, "
            + "\"values\" bigint)";

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        List<String> ddl = new ArrayList<>(List.of(
                "CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE SCHEMA hostile", "CREATE SCHEMA \"hostile.x\"", "CREATE TABLE \"hostile.x\".t " + COLUMNS,
                "CREATE SCHEMA \"Mixed Case\"",
                "CREATE SCHEMA pair", "CREATE TABLE pair.one (id int PRIMARY KEY, v int)",
                "CREATE TABLE pair.two (id int PRIMARY KEY, v int)",
                "INSERT INTO pair.one SELECT g, g FROM generate_series(1, " + ROWS + ") g",
                "INSERT INTO pair.two SELECT g, g FROM generate_series(1, " + ROWS + ") g"));
        for (String t : HOSTILE) {
            ddl.add("CREATE TABLE " + t + " " + COLUMNS);
            ddl.add("INSERT INTO " + t + " SELECT g, g, 'v,' || g, 's' || g, g * 10 FROM generate_series(1, " + ROWS
                    + ") g");
        }
        ddl.add("ANALYZE");
        SOURCE.server().execute(ddl.toArray(String[]::new));
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void hostileNamesStreamUnderAConcurrentWriterAndEndEqual() throws Exception {
        String store = dir.resolve("store").toString();
        Path alike = manifest("read-alike", "t_alike", "scope: {include: ['hostile.*', '\"hostile.x\".*']}");
        CliRun plan = CliRun.of(ENV, "plan", "-f", alike.toString());
        assertThat(plan.exitCode()).as(plan.all()).isEqualTo(4); // a source problem
        assertThat(plan.all()).contains("tables \"hostile.x\".t and hostile.\"x.t\" read alike to the change stream, "
                + "as hostile.x.t").contains("move them in two migrations (one each), or rename one of them");

        Path manifest = manifest("hostile-names", "t_hostile", "scope: {include: ['hostile.*', 'Mixed Case.*']}");
        SourceWriter writer = writer(HOSTILE, 1).start();
        CompletableFuture<CliRun> migrate = migrate(manifest, store);
        StoreWait.catchUp(store, ENV, "hostile-names", migrate);
        long atCatchUp = writer.ops.get();
        Thread.sleep(3000); // the writer goes on while the stream runs
        assertThat(writer.stopAndJoin()).isNull();
        assertThat(writer.ops.get() - atCatchUp).as("writes while streaming").isGreaterThan(HOSTILE.size() * 5L);

        converge(HOSTILE, "t_hostile");
        CliRun stop = CliRun.of(ENV, "stop", "hostile-names", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = migrate.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
        try (Connection t = TARGET.server().connect("t_hostile", "migrator", PW); Statement st = t.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_tables WHERE schemaname IN "
                     + "('hostile', 'Mixed Case')")) {
            rs.next();
            assertThat(rs.getInt(1)).as("every table created on the target, none merged").isEqualTo(HOSTILE.size());
        }
    }

    @Test
    void twoMigrationsWhoseIdsFoldAlikeStreamSideBySideAndAbortingOneLeavesTheOther() throws Exception {
        String store = dir.resolve("pair-store").toString();
        Path dash = manifest("a-b", "t_a_dash_b", "scope: {tables: [pair.one]}");
        Path underscore = manifest("a_b", "t_a_under_b", "scope: {tables: [pair.two]}");
        assertThat(Streams.name("a-b", StreamDirection.FORWARD))
                .isNotEqualTo(Streams.name("a_b", StreamDirection.FORWARD));

        SourceWriter writer = writer(List.of("pair.one", "pair.two"), 2).start();
        CompletableFuture<CliRun> first = migrate(dash, store);
        StoreWait.catchUp(store, ENV, "a-b", first);
        CompletableFuture<CliRun> second = migrate(underscore, store);
        StoreWait.catchUp(store, ENV, "a_b", second);
        Thread.sleep(2000);
        assertThat(writer.stopAndJoin()).isNull();
        converge(List.of("pair.one"), "t_a_dash_b");
        converge(List.of("pair.two"), "t_a_under_b");

        CliRun abort = CliRun.of(ENV, "abort", "a-b", "--store", store);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
        first.get(2, TimeUnit.MINUTES);
        assertThat(slotActive("a-b")).as("a-b's slot dropped").isNull();
        assertThat(slotActive("a_b")).as("a_b's slot still streaming").isTrue();

        SourceWriter after = writer(List.of("pair.two"), 3).start();
        Thread.sleep(2000);
        assertThat(after.stopAndJoin()).isNull();
        converge(List.of("pair.two"), "t_a_under_b");
        CliRun stop = CliRun.of(ENV, "stop", "a_b", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = second.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
    }

    /** Upserts, updates and deletes on random rows of random tables among {@code tables}. */
    private static SourceWriter writer(List<String> tables, long seed) {
        boolean hostile = tables.equals(HOSTILE);
        return new SourceWriter(SOURCE.server(), seed) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                String t = tables.get(r.nextInt(tables.size()));
                int id = 1 + r.nextInt(ROWS + 50);
                int op = r.nextInt(10);
                if (!hostile) {
                    st.execute(op < 8 ? "INSERT INTO " + t + " VALUES (" + id + ", " + n + ") ON CONFLICT (id) DO "
                            + "UPDATE SET v = EXCLUDED.v" : "DELETE FROM " + t + " WHERE id = " + id);
                } else if (op < 5) {
                    st.execute("INSERT INTO " + t + " VALUES (" + id + ", " + n + ", 'w," + n + "', 'S" + n + "', "
                            + n + ") ON CONFLICT (id) DO UPDATE SET \"left\" = EXCLUDED.\"left\", \"v,1\" = "
                            + "EXCLUDED.\"v,1\", \"Similar\" = EXCLUDED.\"Similar\", \"values\" = EXCLUDED.\"values\"");
                } else if (op < 8) {
                    st.execute("UPDATE " + t + " SET \"Similar\" = 'u" + n + "', \"values\" = \"values\" + 1 "
                            + "WHERE id = " + id);
                } else {
                    st.execute("DELETE FROM " + t + " WHERE id = " + id);
                }
                if (n % 20 == 0) {
                    Thread.sleep(5);
                }
            }
        };
    }

    /**
     * Waits (up to 60 s) for each table of the target database to hold the source's rows, then asserts they all do,
     * naming every table that differs.
     */
    private static void converge(List<String> tables, String targetDb) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> differing = new ArrayList<>();
        do {
            differing.clear();
            try (Connection s = SOURCE.server().connect();
                 Connection t = TARGET.server().connect(targetDb, "migrator", PW)) {
                for (String table : tables) {
                    TableComparison.Result r = TableComparison.compare(s, t, table, "id", null);
                    if (!r.equal()) {
                        differing.add(r.toString());
                    }
                }
            }
            if (!differing.isEmpty()) {
                Thread.sleep(500);
            }
        } while (!differing.isEmpty() && System.nanoTime() < deadline);
        assertThat(differing).as("tables that differ").isEmpty();
    }

    /** Whether the migration's slot is in use; null when it does not exist. */
    private static Boolean slotActive(String id) throws SQLException {
        try (Connection s = SOURCE.server().connect();
             PreparedStatement ps = s.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, Streams.name(id, StreamDirection.FORWARD));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBoolean(1) : null;
            }
        }
    }

    private CompletableFuture<CliRun> migrate(Path manifest, String store) {
        return CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store",
                store));
    }

    private Path manifest(String id, String db, String scope) throws Exception {
        TARGET.server().execute("CREATE DATABASE " + db);
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl(db) + "', user: migrator, password: ${env:PW}}",
                scope, "schema: create",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {stop_when: manual}", ""));
        return file;
    }
}
