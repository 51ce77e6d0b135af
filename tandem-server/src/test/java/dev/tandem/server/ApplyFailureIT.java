package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TableComparison;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * seed 002's failure_handling applied to the stream's apply errors, through the REST control plane: a target trigger
 * refuses some rows. With {@code allow_partial} the refusing table is given up (status and audit say so) while a
 * concurrent writer's changes to the other table keep arriving, and that table ends equal. With
 * {@code retry_then_all} a refusal that stops within the retries is ridden out: the migration keeps running and the
 * row arrives.
 */
class ApplyFailureIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "fail-pw";
    private static final String ADMIN = "failure-admin-token-0123456789";
    private static final Map<String, String> ENV = Map.of("PW", PW, "TANDEM_ADMIN_TOKEN", ADMIN);

    @TempDir
    static Path dir;
    private static InProcessServer server;
    private static Api api;

    @BeforeAll
    static void start() {
        for (DatabaseExtension<EmbeddedPostgres> db : List.of(SOURCE, TARGET)) {
            db.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
            for (String t : List.of("a", "b", "c")) {
                db.server().execute("CREATE TABLE " + t + " (id bigint PRIMARY KEY, note text)");
            }
        }
        SOURCE.server().execute("INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 3000) g",
                "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 3000) g",
                "INSERT INTO c SELECT g, 'c' || g FROM generate_series(1, 3000) g", "ANALYZE");
        // the target refuses 'poison' rows always and 'flaky' ones while a flag is set; ALWAYS: also for the stream
        TARGET.server().execute("CREATE TABLE flags (name text PRIMARY KEY)",
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "IF NEW.note = 'poison' THEN RAISE EXCEPTION 'refused by the target: row %', NEW.id; END IF; "
                        + "IF NEW.note = 'flaky' AND EXISTS (SELECT 1 FROM flags WHERE name = 'flaky') THEN "
                        + "RAISE EXCEPTION 'refused for now: row %', NEW.id; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON b FOR EACH ROW EXECUTE FUNCTION refuse()",
                "ALTER TABLE b ENABLE ALWAYS TRIGGER refuse",
                "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON c FOR EACH ROW EXECUTE FUNCTION refuse()",
                "ALTER TABLE c ENABLE ALWAYS TRIGGER refuse");
        server = new InProcessServer(dir.resolve("store"), ENV);
        api = server.api;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static void migrate(String id, String tables, String failureHandling) throws Exception {
        Api.Response created = api.call("POST", "/api/v1/migrations", ADMIN, "{\"id\": \"" + id + "\", "
                + "\"source\": {\"url\": \"" + SOURCE.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"}, "
                + "\"target\": {\"url\": \"" + TARGET.server().jdbcUrl() + "\", \"user\": \"migrator\", "
                + "\"password\": \"${env:PW}\"}, "
                + "\"scope\": {\"tables\": " + tables + "}, \"schema\": \"existing\", "
                + "\"cdc\": {\"method\": \"logical_replication\", \"heartbeat_interval\": \"1s\"}, "
                + "\"validation\": {\"continuous\": false}, \"failure_handling\": " + failureHandling + "}");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        Api.Response started = api.call("POST", "/api/v1/migrations/" + id + "/migrate", ADMIN, null);
        assertThat(started.status()).as(started.toString()).isEqualTo(202);
        api.await("/api/v1/migrations/" + id + "/status", ADMIN, 120, id + " in catch_up",
                s -> s.path("phase").asText().equals("catch_up"));
    }

    @Test
    void allowPartialGivesUpTheRefusingTableAndTheOtherGoesOn() throws Exception {
        migrate("partial", "[\"a\", \"b\"]", "\"allow_partial\"");
        SourceWriter writer = new Writer().start();
        try {
            while (writer.ops.get() < 200) {
                Thread.sleep(20);
            }
            SOURCE.server().execute("UPDATE b SET note = 'poison' WHERE id = 5");
            JsonNode s = api.await("/api/v1/migrations/partial/status", ADMIN, 60, "b given up",
                    d -> d.path("failed_tables").size() == 1);
            assertThat(s.path("failed_tables").get(0).path("table").asText()).isEqualTo("public.b");
            assertThat(s.path("failed_tables").get(0).path("error").asText()).contains("refused by the target");
            assertThat(s.path("status").asText()).isEqualTo("running");
            assertThat(s.path("failure_handling").asText()).isEqualTo("allow_partial");
            long at = writer.ops.get();
            while (writer.ops.get() < at + 300) {
                Thread.sleep(20);
            }
        } finally {
            assertThat(writer.stopAndJoin()).isNull();
        }
        Converge.tables(SOURCE.server(), TARGET.server(), "a", "id");
        try (Connection src = SOURCE.server().connect(); Connection tgt = TARGET.server().connect()) {
            assertThat(TableComparison.compare(src, tgt, "b", "id", null).equal()).as("b was given up").isFalse();
        }
        JsonNode audit = api.call("GET", "/api/v1/migrations/partial/audit", ADMIN, null).data();
        assertThat(audit.toString()).contains("table_failed", "tandem (failure_handling: allow_partial)");
        assertThat(api.call("POST", "/api/v1/migrations/partial/abort", ADMIN, null).status()).isEqualTo(200);
    }

    @Test
    void retryThenAllRidesOutARefusalThatStopsWithinItsRetries() throws Exception {
        migrate("retrying", "[\"c\"]", "{\"type\": \"retry_then_all\", \"retry_count\": 6}");
        TARGET.server().execute("INSERT INTO flags VALUES ('flaky')");
        SOURCE.server().execute("UPDATE c SET note = 'flaky' WHERE id = 7");
        Thread.sleep(2000);
        assertThat(noteOnTarget(7)).as("refused so far").isEqualTo("c7");
        assertThat(api.call("GET", "/api/v1/migrations/retrying/status", ADMIN, null).data().path("status").asText())
                .isEqualTo("running");
        TARGET.server().execute("DELETE FROM flags");
        Converge.tables(SOURCE.server(), TARGET.server(), "c", "id");
        assertThat(noteOnTarget(7)).isEqualTo("flaky");
        JsonNode s = api.call("GET", "/api/v1/migrations/retrying/status", ADMIN, null).data();
        assertThat(s.path("status").asText()).isEqualTo("running");
        assertThat(s.path("failed_tables")).isEmpty();
        assertThat(api.call("POST", "/api/v1/migrations/retrying/abort", ADMIN, null).status()).isEqualTo(200);
    }

    private static String noteOnTarget(long id) throws SQLException {
        try (Connection c = TARGET.server().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT note FROM c WHERE id = " + id)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Updates to both tables (never a poison row). */
    private static final class Writer extends SourceWriter {
        Writer() {
            super(SOURCE.server(), 3);
        }

        @Override
        void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
            String table = n % 2 == 0 ? "a" : "b";
            st.execute("UPDATE " + table + " SET note = 'w" + n + "' WHERE id = " + (10 + r.nextInt(2990)));
            Thread.sleep(2);
        }
    }
}
