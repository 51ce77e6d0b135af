package dev.tandem.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL 17 server for tests and the demo, from the binaries on Maven Central: initdb into a fresh
 * directory, started on a free loopback port, ready for logical replication by default (wal_level=logical, slots
 * and WAL senders to spare). Password authentication over TCP for the superuser {@code postgres}; ICU collation
 * {@code en-US} by default, so text does not sort like C. When the JVM runs as root the server runs as
 * {@code nobody} (see {@link OsUser}). {@link #close()} stops the server and deletes its directory; a shutdown hook
 * does the same if the JVM exits first.
 */
public final class EmbeddedPostgres implements EmbeddedDatabase {
    public static final String SUPERUSER = "postgres";

    private final Builder config;
    private final Path workDir;
    private final Path dataDir;
    private final Path binDir;
    private final Optional<OsUser> osUser;
    private final String password;
    private final Thread shutdownHook;
    private int port;
    private Process process;

    private EmbeddedPostgres(Builder config) throws IOException {
        this.config = config;
        this.binDir = PostgresBinaries.installation().resolve("bin");
        this.osUser = OsUser.forDatabaseProcesses();
        this.password = config.password != null ? config.password : "pg-" + UUID.randomUUID();
        this.workDir = Files.createTempDirectory("tandem-pg-");
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        this.dataDir = workDir.resolve("data");
        this.shutdownHook = new Thread(this::closeQuietly, "tandem-embedded-postgres-shutdown");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A server with the defaults: wal_level=logical, database {@code tandem}. */
    public static EmbeddedPostgres start() {
        return builder().start();
    }

    private void initdb() throws IOException, InterruptedException {
        Files.createDirectories(dataDir);
        Path pwfile = workDir.resolve("pwfile");
        Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(pwfile, PosixFilePermissions.fromString("rw-------"));
        if (osUser.isPresent()) {
            osUser.get().own(dataDir);
            osUser.get().own(pwfile);
        }
        List<String> cmd = new ArrayList<>(List.of(binDir.resolve("initdb").toString(), "-D", dataDir.toString(),
                "-U", SUPERUSER, "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--no-sync", "--no-instructions"));
        if (config.icuLocale != null) {
            cmd.addAll(List.of("--locale=C", "--locale-provider=icu", "--icu-locale=" + config.icuLocale));
        } else {
            cmd.add("--locale=C");
        }
        Path log = workDir.resolve("initdb.log");
        Process p = process(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("initdb failed (exit " + (p.isAlive() ? "timeout" : p.exitValue())
                    + "):\n" + Files2.tail(log, 30));
        }
        Files.deleteIfExists(pwfile);
        if (config.tls != null) {
            Files.copy(config.tls.serverCertPem(), dataDir.resolve("server.crt"));
            Files.copy(config.tls.serverKeyPem(), dataDir.resolve("server.key"));
            Files.setPosixFilePermissions(dataDir.resolve("server.key"), PosixFilePermissions.fromString("rw-------"));
            Path hba = dataDir.resolve("pg_hba.conf");
            Files.writeString(hba, "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
                    + "hostssl replication all 127.0.0.1/32 scram-sha-256\n", StandardCharsets.UTF_8);
            if (osUser.isPresent()) {
                osUser.get().own(dataDir);
            }
        }
    }

    private void startServer(int fixedPort) throws IOException, InterruptedException {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            port = fixedPort > 0 ? fixedPort : Ports.free();
            List<String> cmd = new ArrayList<>(List.of(binDir.resolve("postgres").toString(), "-D", dataDir.toString(),
                    "-p", String.valueOf(port)));
            settings().forEach((k, v) -> {
                cmd.add("-c");
                cmd.add(k + "=" + v);
            });
            Path log = workDir.resolve("postgres.log");
            process = process(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            try {
                awaitReady(log);
                return;
            } catch (IllegalStateException e) {
                last = e;
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                if (fixedPort > 0 || !Files2.tail(log, 20).contains("could not bind")) {
                    break;
                }
            }
        }
        throw last;
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("listen_addresses", "127.0.0.1");
        s.put("unix_socket_directories", "");
        s.put("wal_level", config.walLevel);
        s.put("max_replication_slots", "20");
        s.put("max_wal_senders", "20");
        s.put("max_connections", "200");
        if (!config.durable) {
            s.put("fsync", "off");
            s.put("full_page_writes", "off");
        }
        if (config.tls != null) {
            s.put("ssl", "on");
            s.put("ssl_cert_file", "server.crt");
            s.put("ssl_key_file", "server.key");
        }
        s.putAll(config.settings);
        return s;
    }

    private void awaitReady(Path log) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        SQLException lastError = null;
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("PostgreSQL exited with " + process.exitValue() + " while starting:\n"
                        + Files2.tail(log, 30));
            }
            try {
                connect(SUPERUSER, SUPERUSER, password).close();
                return;
            } catch (SQLException e) {
                lastError = e;
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("PostgreSQL did not accept connections on port " + port + " within 60 s ("
                + (lastError == null ? "" : lastError.getMessage()) + "):\n" + Files2.tail(log, 30));
    }

    private ProcessBuilder process(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(osUser.map(u -> u.command(cmd)).orElse(cmd));
        pb.environment().put("HOME", workDir.toString());
        pb.environment().put("LC_ALL", "C");
        pb.directory(workDir.toFile());
        return pb;
    }

    public int port() {
        return port;
    }

    /** The database tests work in (default {@code tandem}). */
    public String database() {
        return config.database;
    }

    public String jdbcUrl() {
        return jdbcUrl(config.database);
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public String superuser() {
        return SUPERUSER;
    }

    public String superuserPassword() {
        return password;
    }

    /** A superuser connection to {@link #database()}. */
    public Connection connect() throws SQLException {
        return connect(config.database, SUPERUSER, password);
    }

    public Connection connect(String database, String user, String userPassword) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", userPassword);
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** Runs statements as the superuser in {@link #database()}, each in its own transaction. */
    public void execute(String... sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on the embedded PostgreSQL: " + e.getMessage(), e);
        }
    }

    /** The server's log so far (last lines), for a failing test's message. */
    public String logTail(int lines) {
        return Files2.tail(workDir.resolve("postgres.log"), lines);
    }

    /** Stops the server (fast shutdown: open sessions are ended) and deletes its directory. */
    @Override
    public void close() {
        closeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is already shutting down and running the hook
        }
    }

    /**
     * Stops the server (fast shutdown: open sessions are ended, as in a restart for maintenance), keeps it down for
     * {@code down}, and starts it again on the same port with the same data.
     */
    public synchronized void restart(Duration down) throws InterruptedException {
        stopProcess();
        Thread.sleep(down.toMillis());
        try {
            startServer(port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private synchronized void closeQuietly() {
        stopProcess();
        if (!config.keepDirectory) {
            Files2.deleteTree(workDir);
        }
    }

    private void stopProcess() {
        if (process != null && process.isAlive()) {
            try {
                Process stop = process(List.of(binDir.resolve("pg_ctl").toString(), "stop", "-D", dataDir.toString(),
                        "-m", "fast", "-w", "-t", "30")).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                stop.waitFor(40, TimeUnit.SECONDS);
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (IOException | InterruptedException e) {
                process.destroyForcibly();
            }
        }
        process = null;
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres[port=" + port + ", dir=" + workDir + (osUser.map(u -> ", as " + u).orElse("")) + "]";
    }

    /** How to start a server. */
    public static final class Builder {
        private String walLevel = "logical";
        private String database = "tandem";
        private String icuLocale = "en-US";
        private String password;
        private boolean durable;
        private boolean keepDirectory;
        private int port;
        private TestCertificates tls;
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {
        }

        /** {@code logical} (default), {@code replica} or {@code minimal}. */
        public Builder walLevel(String level) {
            this.walLevel = level;
            return this;
        }

        /** The database created for tests (default {@code tandem}); {@code postgres} always exists too. */
        public Builder database(String name) {
            this.database = name;
            return this;
        }

        /** The default collation's ICU locale (default {@code en-US}); null for the C locale. */
        public Builder icuLocale(String locale) {
            this.icuLocale = locale;
            return this;
        }

        /** The superuser's password; random by default. */
        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** With fsync on (for benchmarks); tests run with fsync off by default. */
        public Builder durable(boolean durable) {
            this.durable = durable;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Keep the data directory after close (to inspect a failure). */
        public Builder keepDirectory(boolean keep) {
            this.keepDirectory = keep;
            return this;
        }

        /**
         * TLS with {@code certs}' server certificate, and TCP connections only over TLS ({@code hostssl} in
         * pg_hba.conf: a client that falls back to plain text is refused).
         */
        public Builder tls(TestCertificates certs) {
            this.tls = certs;
            return this;
        }

        /** Any server setting, passed as {@code -c name=value}. */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** Initializes, starts, and creates the test database. */
        public EmbeddedPostgres start() {
            EmbeddedPostgres pg;
            try {
                pg = new EmbeddedPostgres(this);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                pg.initdb();
                pg.startServer(pg.config.port);
                Runtime.getRuntime().addShutdownHook(pg.shutdownHook);
                if (!database.equals("postgres")) {
                    try (Connection c = pg.connect("postgres", SUPERUSER, pg.password); Statement st = c.createStatement()) {
                        st.execute("CREATE DATABASE \"" + database.replace("\"", "\"\"") + "\"");
                    }
                }
                return pg;
            } catch (IOException | SQLException e) {
                pg.closeQuietly();
                throw new IllegalStateException("cannot start the embedded PostgreSQL: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                pg.closeQuietly();
                throw new IllegalStateException("interrupted while starting the embedded PostgreSQL", e);
            } catch (RuntimeException e) {
                pg.closeQuietly();
                throw e;
            }
        }
    }
}
