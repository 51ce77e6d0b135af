package dev.tandem.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded control store against another local user (a real second OS user, {@code nobody}), while
 * {@code tandem migrate} holds the store open and H2's auto-server is listening: in a store directory someone made
 * 0755 (with a 0644 file in it), that user can neither list the directory nor read the data or the key, and even
 * with the auto-server's port and key (which it could read from H2's lock file before) it cannot log in without the
 * store's password; the auto-server listens on the loopback interface only. Needs root, to become the other user.
 */
class StoreSecurityIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres();
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> TARGET = DatabaseExtension.postgres();

    private static final String PW = "store-sec-pw";
    private static final Map<String, String> ENV = Map.of("PW", PW);
    private Path parent;

    @BeforeAll
    static void databases() {
        SOURCE.server().execute("CREATE ROLE migrator LOGIN SUPERUSER REPLICATION PASSWORD '" + PW + "'",
                "CREATE TABLE items (id int PRIMARY KEY, v int)",
                "INSERT INTO items SELECT g, g FROM generate_series(1, 100) g");
        TARGET.server().execute("CREATE ROLE migrator LOGIN SUPERUSER PASSWORD '" + PW + "'");
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (parent != null) {
            try (var all = Files.walk(parent)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void anotherOsUserCanNeitherReadTheStoreNorConnectToIt() throws Exception {
        assumeTrue(System.getProperty("user.name").equals("root") && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "needs root and setpriv to act as a second OS user");
        parent = Files.createTempDirectory("tandem-store-sec");
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path store = parent.resolve("store");
        Files.createDirectories(store);
        Files.setPosixFilePermissions(store, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(store.resolve("notes.txt"), "left here by hand");
        Files.setPosixFilePermissions(store.resolve("notes.txt"), PosixFilePermissions.fromString("rw-r--r--"));
        Path h2 = parent.resolve("h2.jar"); // where the other user can run H2's shell from
        Files.copy(Path.of(org.h2.Driver.class.getProtectionDomain().getCodeSource().getLocation().toURI()), h2);
        Files.setPosixFilePermissions(h2, PosixFilePermissions.fromString("rw-r--r--"));

        Path manifest = parent.resolve("m.yaml");
        Files.writeString(manifest, String.join("\n", "id: store-sec",
                "source: {url: '" + SOURCE.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "target: {url: '" + TARGET.server().jdbcUrl() + "', user: migrator, password: ${env:PW}}",
                "scope: {tables: [items]}", "schema: create",
                "cdc: {method: logical_replication, heartbeat_interval: 1s}", "continuous: {stop_when: manual}", ""));
        CompletableFuture<CliRun> migrate = CompletableFuture.supplyAsync(() -> CliRun.of(ENV, "migrate", "-f",
                manifest.toString(), "--store", store.toString()));
        try {
            StoreWait.catchUp(store.toString(), ENV, "store-sec", migrate);

            assertThat(Files.getPosixFilePermissions(store)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
            try (var files = Files.list(store)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    assertThat(Files.getPosixFilePermissions(f)).as(f.toString())
                            .isEqualTo(PosixFilePermissions.fromString("rw-------"));
                }
            }
            Result ls = asNobody("ls", store.toString());
            assertThat(ls.code()).as(ls.out()).isNotZero();
            assertThat(ls.out()).contains("Permission denied");
            for (String file : List.of("store.mv.db", "store.key", "store.lock.db", "notes.txt")) {
                Result cat = asNobody("cat", store.resolve(file).toString());
                assertThat(cat.code()).as(file + ": " + cat.out()).isNotZero();
                assertThat(cat.out()).as(file).contains("Permission denied");
            }

            // what the lock file gave away before: the auto-server's address and key
            Properties lock = new Properties();
            lock.load(Files.newBufferedReader(store.resolve("store.lock.db"), StandardCharsets.ISO_8859_1));
            String server = lock.getProperty("server");
            assertThat(server).matches("(127\\.0\\.0\\.1|localhost):[0-9]+");
            int port = Integer.parseInt(server.substring(server.indexOf(':') + 1));
            assertThat(listeningAddresses(port)).as("the auto-server's listening sockets").containsOnly("127.0.0.1");
            String url = "jdbc:h2:tcp://" + server + "/" + lock.getProperty("id");
            Result shell = asNobody(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    h2.toString(), "org.h2.tools.Shell", "-url", url, "-user", "tandem", "-password", "",
                    "-sql", "SELECT 1");
            assertThat(shell.code()).as(shell.out()).isNotZero();
            assertThat(shell.out()).contains("Wrong user name or password");
        } finally {
            CliRun stop = CliRun.of(ENV, "stop", "store-sec", "--store", store.toString());
            assertThat(stop.exitCode()).as(stop.all()).isZero();
            CliRun run = migrate.get(2, TimeUnit.MINUTES);
            assertThat(run.exitCode()).as(run.all()).isZero();
        }
    }

    private record Result(int code, String out) {
    }

    private static Result asNobody(String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups", "--"));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    /** The local addresses listening on {@code port}, from /proc/net/tcp and tcp6. */
    private static List<String> listeningAddresses(int port) throws IOException {
        List<String> out = new ArrayList<>();
        String hexPort = String.format(Locale.ROOT, "%04X", port);
        for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(file);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith(":" + hexPort) && f[3].equals("0A")) { // 0A: LISTEN
                    String addr = f[1].substring(0, f[1].indexOf(':'));
                    out.add(switch (addr) {
                        case "0100007F", "0000000000000000FFFF00000100007F" -> "127.0.0.1"; // v4, v4-mapped v6
                        case "00000000000000000000000001000000" -> "::1";
                        case "00000000", "00000000000000000000000000000000" -> "every interface";
                        default -> addr;
                    });
                }
            }
        }
        return out;
    }
}
