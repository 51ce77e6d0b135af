package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cdc.method: timestamp_column} through the CLI: a writer inserts, updates (a trigger stamps updated_at),
 * deletes, changes keys, and holds some transactions open after stamping their rows (so they commit after
 * later-stamped ones: the overlap window must catch them), from before the copy until after it. The stream is
 * stopped, resumed with stop_when: in_sync, and the tables are compared row for row. No slot or publication is
 * created on the source.
 */
class TimestampCdcIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "ts-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE SCHEMA app",
                "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS "
                        + "$$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$",
                "CREATE TABLE app.items (id bigserial PRIMARY KEY, name text, qty int, "
                        + "updated_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                "CREATE TRIGGER touch BEFORE UPDATE ON app.items FOR EACH ROW EXECUTE FUNCTION app.touch()",
                "INSERT INTO app.items (name, qty) SELECT 'item ' || g, g % 100 FROM generate_series(1, 30000) g",
                // timestamp without time zone, a text key
                "CREATE TABLE app.labels (code text PRIMARY KEY, n int, updated_at timestamp NOT NULL DEFAULT "
                        + "clock_timestamp())",
                "CREATE TRIGGER touch BEFORE UPDATE ON app.labels FOR EACH ROW EXECUTE FUNCTION app.touch()",
                "INSERT INTO app.labels (code, n) SELECT 'l-' || g, g FROM generate_series(1, 2000) g",
                "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void pollingFindsInsertsUpdatesDeletesAndLateCommitsAndEndsEqual() throws Exception {
        Path manifest = dir.resolve("app-ts.yaml");
        Files.writeString(manifest, String.join("\n",
                "id: app-ts",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {include: ['app.*']}",
                "schema: create",
                "data: {type: scan, chunk_rows: 2000, parallelism: 2, rows_per_second: 10000}",
                "cdc: {method: timestamp_column, timestamp_column: updated_at, poll_interval: 1s, "
                        + "overlap_window: 10s}",
                "continuous: {enabled: true, stop_when: manual}",
                ""));
        Writer writer = new Writer();
        Thread writing = new Thread(writer, "source-writer");
        writing.start();
        while (writer.ops.get() < 50) {
            Thread.sleep(20);
        }
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() ->
                CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store()));
        StoreWait.catchUp(store(), ENV, "app-ts", migrate);
        Thread.sleep(4000); // the writer goes on after the backfill ended
        writer.stop.set(true);
        writing.join();
        assertThat(writer.failure.get()).isNull();
        assertThat(writer.lateCommits.get()).as("transactions that committed after later-stamped ones").isPositive();

        CliRun lag = CliRun.of(ENV, "lag", "app-ts", "--json", "--store", store());
        assertThat(lag.exitCode()).as(lag.all()).isZero();
        JsonNode l = JSON.readTree(lag.out());
        assertThat(l.path("lag").path("seconds").isNumber()).isTrue();
        assertThat(l.path("lag").path("bytes").asLong()).as("no log, no bytes").isZero();
        assertThat(l.path("cdc_position").path("timestamp").path("position").asText())
                .matches("\\d{4}-\\d\\d-\\d\\dT.*Z");

        CliRun stop = CliRun.of(ENV, "stop", "app-ts", "--store", store());
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun first = migrate.get(60, TimeUnit.SECONDS);
        assertThat(first.exitCode()).as(first.all()).isZero();
        assertThat(first.all()).contains("polling updated_at every 1s");

        // changes while nothing polls, deletes among them: the resumed stream finds them from its stored watermarks
        try (Connection c = SOURCE.server().connect(); Statement st = c.createStatement()) {
            st.execute("UPDATE app.items SET qty = -1 WHERE id % 97 = 0");
            st.execute("DELETE FROM app.items WHERE id % 89 = 0");
            st.execute("DELETE FROM app.labels WHERE n % 50 = 0");
            st.execute("INSERT INTO app.labels (code, n) VALUES ('late-1', 1), ('late-2', 2)");
        }
        Files.writeString(manifest, Files.readString(manifest).replace("stop_when: manual", "stop_when: in_sync"));
        CliRun second = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", store());
        assertThat(second.exitCode()).as(second.all()).isZero();
        assertThat(second.all()).contains("In sync at");

        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            TableComparison.assertEqual(s, t, "app.items", "id");
            TableComparison.assertEqual(s, t, "app.labels", "code");
            try (Statement st = s.createStatement();
                 var rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_replication_slots) "
                         + "+ (SELECT count(*) FROM pg_publication)")) {
                rs.next();
                assertThat(rs.getInt(1)).as("nothing created on the source").isZero();
            }
        }
    }

    @Test
    void aColumnThatCannotBePolledIsRefusedBeforeAnythingIsCreated() throws Exception {
        Path manifest = dir.resolve("bad-ts.yaml");
        Files.writeString(manifest, String.join("\n",
                "id: bad-ts",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [app.items, app.labels]}",
                "schema: create",
                "cdc: {method: timestamp_column, timestamp_column: n}",
                ""));
        CliRun run = CliRun.of(ENV, "migrate", "-f", manifest.toString(), "--store", dir.resolve("bad").toString());
        assertThat(run.exitCode()).as(run.all()).isNotZero();
        assertThat(run.all()).contains("nothing was changed",
                "table app.items has no column n to poll", "app.labels.n is integer, not a timestamp",
                "use cdc.method: logical_replication").doesNotContain("\tat ");
    }

    private String store() {
        return dir.resolve("store").toString();
    }

    /** Random writes until stopped; every 40th holds its transaction open 1.5 s after stamping its row. */
    private static final class Writer implements Runnable {
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLong ops = new AtomicLong();
        final AtomicLong lateCommits = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        @Override
        public void run() {
            Random r = new Random(7);
            try (Connection c = SOURCE.server().connect(); Statement st = c.createStatement()) {
                while (!stop.get()) {
                    long n = ops.incrementAndGet();
                    long id = 1 + r.nextInt(30000);
                    if (n % 40 == 0) {
                        // stamped now, committed 1.5 s later: after rows stamped in between were polled
                        c.setAutoCommit(false);
                        st.execute("UPDATE app.items SET name = 'slow " + n + "' WHERE id = " + id);
                        try (Connection other = SOURCE.server().connect(); Statement o = other.createStatement()) {
                            o.execute("UPDATE app.items SET qty = qty + 1 WHERE id = " + (1 + (id + 7) % 30000));
                        }
                        Thread.sleep(1500);
                        c.commit();
                        c.setAutoCommit(true);
                        lateCommits.incrementAndGet();
                        continue;
                    }
                    switch (r.nextInt(7)) {
                        case 0 -> st.execute("INSERT INTO app.items (name, qty) VALUES ('new " + n + "', 1)");
                        case 1, 2 -> st.execute("UPDATE app.items SET qty = qty + 1 WHERE id BETWEEN " + id
                                + " AND " + (id + 10));
                        case 3 -> st.execute("DELETE FROM app.items WHERE id = " + id);
                        case 4 -> st.execute("UPDATE app.items SET id = " + (1_000_000 + n) + " WHERE id = " + id);
                        case 5 -> st.execute("INSERT INTO app.labels (code, n) VALUES ('w-" + n + "', " + n + ") "
                                + "ON CONFLICT (code) DO UPDATE SET n = EXCLUDED.n");
                        default -> st.execute("DELETE FROM app.labels WHERE code = 'l-" + (1 + r.nextInt(2000))
                                + "'");
                    }
                    Thread.sleep(3);
                }
            } catch (SQLException | InterruptedException | RuntimeException e) {
                failure.set(e);
            }
        }
    }
}
