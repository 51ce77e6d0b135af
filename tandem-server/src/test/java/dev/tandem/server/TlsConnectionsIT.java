package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.cdc.Streams;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import dev.tandem.testkit.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
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
 * Both databases speak TLS only ({@code hostssl}: a client that falls back to plain text is refused) with a
 * certificate from a private CA. The copy and the change stream connect with every TLS setting the manifest gives,
 * wherever it gives them: {@code sslmode=verify-full} in the URL with {@code sslrootcert} under properties (the stream
 * once dropped the root certificate and failed after the copy), and pgjdbc's {@code ssl: true} (once the stream's
 * {@code prefer}: no certificate check). A CA that did not sign the server's certificate is refused; TLS without a
 * certificate check is a warning in the plan.
 */
class TlsConnectionsIT {
    private static final TestCertificates CERTS = certificates("ca", "Tandem TLS Test CA");
    private static final TestCertificates OTHER = certificates("other", "Some Other CA");

    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres(EmbeddedPostgres.builder()
            .tls(CERTS));
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres(EmbeddedPostgres.builder()
            .tls(CERTS));

    private static final String PW = "tls-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private static final int ROWS = 20_000;

    @TempDir
    Path dir;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint, note text)",
                "INSERT INTO accounts SELECT g, g, 'n' || g FROM generate_series(1, " + ROWS + ") g", "ANALYZE");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @Test
    void copiesAndStreamsOverVerifiedTlsWithAPrivateCa() throws Exception {
        Path manifest = manifest("tls", SOURCE.server().jdbcUrl() + "?sslmode=verify-full",
                "{sslrootcert: '" + CERTS.caPem() + "'}", "{ssl: 'true', sslrootcert: '" + CERTS.caPem() + "'}");
        CliRun plan = CliRun.of(ENV, "plan", "-f", manifest.toString());
        assertThat(plan.exitCode()).as(plan.all()).isZero();
        assertThat(plan.out().split("the server's certificate and name verified", -1)).as(plan.out()).hasSize(3);

        String store = dir.resolve("store").toString();
        SourceWriter writer = new SourceWriter(SOURCE.server(), 7) {
            @Override
            void step(Connection c, Statement st, Random r, long n) throws SQLException, InterruptedException {
                int id = 1 + r.nextInt(ROWS + 500);
                int op = r.nextInt(10);
                st.execute(op < 7 ? "INSERT INTO accounts VALUES (" + id + ", " + n + ", 'w" + n + "') ON CONFLICT "
                        + "(id) DO UPDATE SET balance = EXCLUDED.balance, note = EXCLUDED.note"
                        : "DELETE FROM accounts WHERE id = " + id);
                if (n % 50 == 0) {
                    Thread.sleep(5);
                }
            }
        }.start();
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f",
                manifest.toString(), "--store", store));
        StoreWait.catchUp(store, ENV, "tls", migrate);
        long atCatchUp = writer.ops.get();
        Thread.sleep(3000);
        assertThat(writer.stopAndJoin()).isNull();
        assertThat(writer.ops.get() - atCatchUp).as("writes while streaming").isGreaterThan(50);
        assertThat(streamEncrypted()).as("the change stream's replication connection uses TLS").isTrue();

        converge("t_tls");
        CliRun stop = CliRun.of(ENV, "stop", "tls", "--store", store);
        assertThat(stop.exitCode()).as(stop.all()).isZero();
        CliRun run = migrate.get(2, TimeUnit.MINUTES);
        assertThat(run.exitCode()).as(run.all()).isZero();
        CliRun abort = CliRun.of(ENV, "abort", "tls", "--store", store);
        assertThat(abort.exitCode()).as(abort.all()).isZero();
    }

    @Test
    void refusesAServerItCannotVerifyAndWarnsWhenNothingIsChecked() throws Exception {
        Path wrongCa = manifest("wrong-ca", SOURCE.server().jdbcUrl(), "{ssl: 'true', sslrootcert: '"
                + OTHER.caPem() + "'}", "{sslmode: verify-full, sslrootcert: '" + CERTS.caPem() + "'}");
        CliRun refused = CliRun.of(ENV, "plan", "-f", wrongCa.toString());
        assertThat(refused.exitCode()).as(refused.all()).isEqualTo(4); // a source problem
        assertThat(refused.all()).containsIgnoringCase("certificate");

        Path unchecked = manifest("unchecked", SOURCE.server().jdbcUrl() + "?sslmode=require", "{}",
                "{sslmode: verify-ca, sslrootcert: '" + CERTS.caPem() + "'}");
        CliRun warned = CliRun.of(ENV, "plan", "-f", unchecked.toString());
        assertThat(warned.exitCode()).as(warned.all()).isZero();
        assertThat(warned.out()).contains("[warn]  encrypted", "the server's certificate is not checked "
                + "(sslmode=require): whoever sits between can pose as the database",
                "the server's name is not checked (sslmode=verify-ca)",
                "set sslmode=verify-full and sslrootcert=", "(2 warnings above)");
    }

    /** A manifest whose target is a database of its own, named after {@code id}. */
    private Path manifest(String id, String sourceUrl, String sourceProps, String targetProps) throws IOException {
        String db = "t_" + id.replace('-', '_');
        TARGET.server().execute("CREATE DATABASE " + db);
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, String.join("\n", "id: " + id,
                "source: {url: '" + sourceUrl + "', user: migrator, password: ${env:PW}, properties: " + sourceProps
                        + "}",
                "target: {url: '" + TARGET.server().jdbcUrl(db) + "', user: migrator, password: ${env:PW}, "
                        + "properties: " + targetProps + "}",
                "scope: {tables: [public.accounts]}", "schema: create",
                "data: {chunk_rows: 2000}",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}",
                "continuous: {stop_when: manual}", ""));
        return file;
    }

    /** Waits (up to 60 s) for the target database to hold the source's rows, then asserts it does. */
    private static void converge(String targetDb) throws Exception {
        Converge.tables(SOURCE.server(), () -> TARGET.server().connect(targetDb, "migrator", PW), "accounts", "id");
    }

    /** Whether the forward stream's walsender connection on the source is encrypted. */
    private static boolean streamEncrypted() throws SQLException {
        try (Connection c = SOURCE.server().connect();
             PreparedStatement ps = c.prepareStatement("SELECT s.ssl FROM pg_replication_slots r JOIN pg_stat_ssl s "
                     + "ON s.pid = r.active_pid WHERE r.slot_name = ?")) {
            ps.setString(1, Streams.name("tls", StreamDirection.FORWARD));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private static TestCertificates certificates(String name, String cn) {
        try {
            return TestCertificates.create(Files.createTempDirectory("tandem-tls-" + name + "-"), cn);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
