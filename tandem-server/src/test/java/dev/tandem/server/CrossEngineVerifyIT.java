package dev.tandem.server;

import static dev.tandem.server.VerifyReports.found;
import static dev.tandem.server.VerifyReports.table;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedMariaDb;
import dev.tandem.testkit.EmbeddedPostgres;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tandem verify} between two engines: a MariaDB source and a PostgreSQL target holding the same rows in each
 * engine's own types (decimal(12,2) vs numeric(14,4), tinyint(1) vs boolean, DATETIME(6) vs timestamp, TIMESTAMP vs
 * timestamptz, blob vs bytea, JSON text vs jsonb with other key order and spacing, char(n) padding, upper-case
 * uuid text vs uuid, NULLs) and a text key whose order differs between the engines' collations (MariaDB's is
 * case-insensitive, so chunk bounds drawn on the source enclose other rows on the target). Clean first; then
 * drift injected on the target is reported exactly; --repair fixes it from the source; a last verify is clean.
 */
class CrossEngineVerifyIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> SOURCE = DatabaseExtension.mariaDb();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "cross-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ITEMS = 12_000;
    private static final int CODES = 3_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() throws Exception {
        SOURCE.server().execute(
                "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(100), amount decimal(12,2), ratio double, "
                        + "small float, ok tinyint(1), created datetime(6), seen timestamp(3) NULL DEFAULT NULL, "
                        + "day date, at time, payload blob, doc json, code char(8), uid char(36))",
                "CREATE TABLE codes (code varchar(40) NOT NULL PRIMARY KEY, n int)",
                "CREATE TABLE labels (id int PRIMARY KEY, tg set('two words','x','y') NOT NULL)",
                "INSERT INTO labels VALUES (1, ''), (2, 'x'), (3, 'two words,x'), (4, 'two words,x,y')",
                "CREATE USER 'migrator'@'%' IDENTIFIED BY '" + PW + "'",
                "GRANT SELECT ON tandem.* TO 'migrator'@'%'");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'",
                "CREATE SCHEMA tandem AUTHORIZATION migrator",
                "CREATE TABLE tandem.items (id bigint PRIMARY KEY, name text, amount numeric(14,4), "
                        + "ratio double precision, small real, ok boolean, created timestamp(6), seen timestamptz(3), "
                        + "day date, at time, payload bytea, doc jsonb, code char(8), uid uuid)",
                "CREATE TABLE tandem.codes (code text PRIMARY KEY, n int)",
                // a SET as the text[] the type mapping makes it
                "CREATE TABLE tandem.labels (id int PRIMARY KEY, tg text[] NOT NULL)",
                "INSERT INTO tandem.labels VALUES (1, '{}'), (2, '{x}'), (3, '{\"two words\",x}'), "
                        + "(4, '{\"two words\",x,y}')");
        Random r = new Random(42);
        try (Connection s = SOURCE.server().connect(); Connection t = TARGET.server().connect()) {
            s.createStatement().execute("SET time_zone = '+00:00'");
            s.setAutoCommit(false);
            t.setAutoCommit(false);
            String cols = "(id, name, amount, ratio, small, ok, created, seen, day, at, payload, doc, code, uid)";
            try (PreparedStatement ps = s.prepareStatement("INSERT INTO items " + cols
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                 PreparedStatement pt = t.prepareStatement("INSERT INTO tandem.items " + cols
                         + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::uuid)")) {
                for (int id = 1; id <= ITEMS; id++) {
                    boolean nulls = id % 50 == 0;
                    BigDecimal amount = BigDecimal.valueOf(r.nextInt(10_000_000), 2);
                    double ratio = r.nextDouble() * 1000;
                    float small = r.nextFloat() * 100;
                    LocalDateTime created = LocalDateTime.of(2024, 1, 1, 0, 0).plusSeconds(id * 61L)
                            .plusNanos(r.nextInt(1_000_000) * 1000L);
                    LocalDateTime seen = LocalDateTime.of(2025, 6, 1, 12, 0).plusSeconds(id * 7L)
                            .plusNanos(r.nextInt(1000) * 1_000_000L);
                    byte[] payload = ("payload " + id + " " + r.nextLong()).getBytes(StandardCharsets.UTF_8);
                    String uid = UUID.nameUUIDFromBytes(payload).toString();
                    setRow(ps, id, nulls, amount, ratio, small, created, seen, payload,
                            "{\"tags\": [\"x\", " + id + "], \"k\": " + id + "}", uid.toUpperCase(Locale.ROOT));
                    setRow(pt, id, nulls, amount, ratio, small, created, seen, payload,
                            "{\"k\":" + id + ",\"tags\":[\"x\"," + id + "]}", uid);
                }
                ps.executeBatch();
                pt.executeBatch();
            }
            try (PreparedStatement ps = s.prepareStatement("INSERT INTO codes VALUES (?, ?)");
                 PreparedStatement pt = t.prepareStatement("INSERT INTO tandem.codes VALUES (?, ?)")) {
                for (int n = 1; n <= CODES; n++) {
                    String code = code(n);
                    for (PreparedStatement p : List.of(ps, pt)) {
                        p.setString(1, code);
                        p.setInt(2, n);
                        p.addBatch();
                    }
                }
                ps.executeBatch();
                pt.executeBatch();
            }
            s.commit();
            t.commit();
        }
        SOURCE.server().execute("ANALYZE TABLE items, codes");
        TARGET.server().execute("ANALYZE");
    }

    /** Keys whose case-insensitive order (MariaDB) differs from a case-sensitive one: b-1, C-2, a-3, _-4, ... */
    private static String code(int n) {
        String letters = "bCaZy_Dx";
        char c = letters.charAt(n % letters.length());
        return (n % 3 == 0 ? Character.toUpperCase(c) : c) + "-" + n;
    }

    private static void setRow(PreparedStatement p, int id, boolean nulls, BigDecimal amount, double ratio,
                               float small, LocalDateTime created, LocalDateTime seen, byte[] payload, String doc,
                               String uid) throws Exception {
        p.setLong(1, id);
        p.setString(2, nulls ? null : "name " + id);
        p.setBigDecimal(3, nulls ? null : amount);
        p.setObject(4, nulls ? null : ratio);
        p.setObject(5, nulls ? null : small);
        p.setObject(6, nulls ? null : id % 2 == 0);
        p.setObject(7, nulls ? null : created);
        boolean postgres = p.getConnection().getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT)
                .contains("postgres");
        // the MariaDB session's time zone is UTC (set below), so its TIMESTAMP holds the same instant
        p.setObject(8, nulls ? null : postgres ? OffsetDateTime.of(seen, ZoneOffset.UTC) : seen);
        p.setObject(9, nulls ? null : LocalDate.of(2024, 1, 1).plusDays(id % 700));
        p.setObject(10, nulls ? null : LocalTime.of(id % 24, id % 60, id % 7 == 0 ? 0 : id % 60));
        p.setBytes(11, nulls ? null : payload);
        p.setString(12, nulls ? null : doc);
        p.setString(13, nulls ? null : "c" + id % 1000);
        p.setString(14, nulls ? null : uid);
        p.addBatch();
    }

    @Test
    void comparesTypeNormalisedRowsAcrossEnginesAndRepairsTheTarget() throws Exception {
        Path manifest = dir.resolve("cross.yaml");
        Files.writeString(manifest, String.join("\n", "id: cross-verify",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [items, codes, labels]}",
                "data: {chunk_rows: 1000}", ""));
        JsonNode clean = verify(manifest, 0);
        assertThat(clean.path("equal").asBoolean()).as(clean.toString()).isTrue();
        assertThat(table(clean, "tandem.items").path("matching_rows").asLong()).isEqualTo(ITEMS);
        assertThat(table(clean, "tandem.codes").path("matching_rows").asLong()).isEqualTo(CODES);

        TARGET.server().execute("UPDATE tandem.items SET amount = amount + 0.01 WHERE id = 777",
                "UPDATE tandem.items SET doc = '{\"k\": 0}' WHERE id = 4321",
                "UPDATE tandem.items SET seen = seen + interval '1 millisecond' WHERE id = 9001",
                "DELETE FROM tandem.items WHERE id = 11999",
                "INSERT INTO tandem.items (id, name) VALUES (20000, 'only on the target')",
                "UPDATE tandem.codes SET n = -1 WHERE code = '" + code(1500) + "'",
                "DELETE FROM tandem.codes WHERE code = '" + code(2222) + "'",
                "INSERT INTO tandem.codes VALUES ('A-extra', 1)",
                "UPDATE tandem.labels SET tg = '{y}' WHERE id = 3");
        JsonNode drift = verify(manifest, 1);
        assertThat(found(drift)).containsExactlyInAnyOrder(
                "tandem.items mismatch [777] [amount]",
                "tandem.items mismatch [4321] [doc]",
                "tandem.items mismatch [9001] [seen]",
                "tandem.items missing_on_target [11999] []",
                "tandem.items extra_on_target [20000] []",
                "tandem.codes mismatch [" + code(1500) + "] [n]",
                "tandem.codes missing_on_target [" + code(2222) + "] []",
                "tandem.codes extra_on_target [A-extra] []",
                "tandem.labels mismatch [3] [tg]");
        assertThat(drift.path("differing_rows").asLong()).isEqualTo(9);
        assertThat(table(drift, "tandem.items").path("matching_rows").asLong()).isEqualTo(ITEMS - 4);
        assertThat(table(drift, "tandem.codes").path("matching_rows").asLong()).isEqualTo(CODES - 2);

        JsonNode repaired = verify(manifest, 0, "--repair");
        assertThat(repaired.path("differing_rows").asLong()).isEqualTo(9);
        assertThat(repaired.path("unrepaired_rows").asLong()).isZero();
        JsonNode last = verify(manifest, 0);
        assertThat(last.path("equal").asBoolean()).as(last.toString()).isTrue();
        try (Connection t = TARGET.server().connect(); var st = t.createStatement();
             var rs = st.executeQuery("SELECT tg::text FROM tandem.labels WHERE id = 3")) {
            rs.next();
            assertThat(rs.getString(1)).as("the SET repaired as the array it maps to").isEqualTo("{\"two words\",x}");
        }
    }

    private JsonNode verify(Path manifest, int exit, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("verify", "-f", manifest.toString(), "--store",
                dir.resolve("store").toString(), "--json"));
        args.addAll(List.of(more));
        CliRun run = CliRun.of(ENV, args.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.all()).isEqualTo(exit);
        return JSON.readTree(run.out());
    }
}
