package dev.tandem.core.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.JdbcUrls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.function.Function;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;

/**
 * Tandem's control store: migrations, runs and chunks, change-stream positions and the audit log. By default an
 * embedded H2 file database in a directory ({@code --store DIR}, else {@code TANDEM_STORE}, else {@code ./.tandem});
 * PostgreSQL when the location is a {@code jdbc:postgresql:} URL (credentials from {@code TANDEM_STORE_USER} and
 * {@code TANDEM_STORE_PASSWORD}, or in the URL). The schema is versioned with Flyway (db/tandem-store).
 * <p>Several processes may use one store directory at once (H2's AUTO_SERVER: the first opens the file, the others
 * connect to it on the loopback interface), so a {@code tandem status} can read while a {@code tandem migrate}
 * writes. The embedded store is its owner's only: {@link EmbeddedStore}.
 * <p>A call may swallow its thread's interrupt: H2 reopens its file after a {@code ClosedByInterruptException} and
 * clears the flag. A thread that loops around store calls stops on a flag of its own, not on the interrupt alone.
 */
public final class ControlStore implements AutoCloseable {
    public static final String ENV_STORE = "TANDEM_STORE";
    public static final String ENV_USER = "TANDEM_STORE_USER";
    public static final String ENV_PASSWORD = "TANDEM_STORE_PASSWORD";
    public static final String DEFAULT_LOCATION = ".tandem";

    private final HikariDataSource dataSource;
    /** The embedded H2 store, whose commits are not durable by themselves (see {@link #transaction}). */
    private final boolean embedded;
    private final String display;
    private final Clock clock;
    private final Migrations migrations;
    private final AuditLog audit;
    private final Runs runs;
    private final Positions positions;
    private final LagSamples lag;
    private final Requests requests;
    private final Leases leases;
    private final DriftLog drift;
    private final AlertLog alerts;
    private final Fences fences;
    private final Routing routing;
    private final FailedTables failedTables;
    private final TableShapes tableShapes;
    /** What closing also does: a reader's copy of the store's file is deleted ({@link #openReader}). */
    private Runnable afterClose = () -> { };
    /** Signalled after a change routers or waiters care about, in this process (others are seen by polling). */
    private final Object changes = new Object();
    private long changeCount;

    private ControlStore(HikariDataSource dataSource, boolean embedded, String display, Clock clock) {
        this.dataSource = dataSource;
        this.embedded = embedded;
        this.display = display;
        this.clock = clock;
        this.audit = new AuditLog(this);
        this.migrations = new Migrations(this, audit);
        this.runs = new Runs(this);
        this.positions = new Positions(this);
        this.lag = new LagSamples(this);
        this.requests = new Requests(this);
        this.leases = new Leases(this);
        this.drift = new DriftLog(this);
        this.alerts = new AlertLog(this);
        this.fences = new Fences(this);
        this.routing = new Routing(this);
        this.failedTables = new FailedTables(this);
        this.tableShapes = new TableShapes(this);
    }

    /** Where the store is: the {@code --store} flag if given, else {@code TANDEM_STORE}, else {@code ./.tandem}. */
    public static String location(String flag, Function<String, String> env) {
        if (flag != null && !flag.isBlank()) {
            return flag;
        }
        String fromEnv = env.apply(ENV_STORE);
        return fromEnv != null && !fromEnv.isBlank() ? fromEnv : DEFAULT_LOCATION;
    }

    public static ControlStore open(String location, Function<String, String> env) {
        return open(location, env, Clock.systemUTC());
    }

    /**
     * Opens a store that must already exist (for commands that only read): a directory that is not there is a
     * BAD_INPUT error naming where it looked, not a new empty store.
     */
    public static ControlStore openExisting(String location, Function<String, String> env) {
        if (!location.startsWith("jdbc:") && !Files.isDirectory(Path.of(location))) {
            throw TandemException.badInput("no control store at " + Path.of(location).toAbsolutePath().normalize()
                    + "; pass --store with the directory (or jdbc:postgresql: URL) your migrations use, or set "
                    + ENV_STORE);
        }
        return open(location, env);
    }

    /**
     * Opens the store at {@code location} for a command that only reads it ({@code tandem status}, {@code lag},
     * {@code runs}, {@code chunks}). An embedded store is never served by a reader, so a reader cannot make a
     * {@code tandem migrate} that starts meanwhile depend on a process about to exit (H2's auto-server hand-over,
     * which made such starts fail while a loop ran {@code tandem lag}): the reader connects as a client of the process
     * serving the store, or, when none does, reads a private read-only copy of its file. A store this version must
     * upgrade, or one without its key yet, is opened as {@link #openExisting} does.
     */
    public static ControlStore openReader(String location, Function<String, String> env) {
        if (location.startsWith("jdbc:")) {
            return open(location, env);
        }
        Path dir = Path.of(location).toAbsolutePath().normalize();
        Optional<String> key = Files.isDirectory(dir) && Files.exists(dir.resolve("store.mv.db"))
                ? EmbeddedStore.existingKey(dir) : Optional.empty();
        if (key.isEmpty()) {
            return openExisting(location, env);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                Optional<ControlStore> reader = readerOnce(dir, key.get());
                return reader.orElseGet(() -> openExisting(location, env));
            } catch (TandemException e) {
                // the serving process went between the look at its lock file and the connection, or a process
                // that started wrote the file while it was copied: a few more tries settle either
                if (attempt == 5) {
                    throw e;
                }
                EmbeddedStore.pauseForHandOver();
            }
        }
    }

    /** One try of {@link #openReader}; empty when the store's schema is older than this version's. */
    private static Optional<ControlStore> readerOnce(Path dir, String key) {
        Optional<String> served = EmbeddedStore.servedUrl(dir);
        Path copy = null;
        HikariConfig cfg = new HikariConfig();
        try {
            if (served.isPresent()) {
                cfg.setJdbcUrl(served.get());
            } else {
                copy = EmbeddedStore.copyForReading(dir);
                cfg.setJdbcUrl(EmbeddedStore.readOnlyUrl(copy));
            }
        } catch (IOException e) {
            throw new TandemException(ErrorCode.STORE, "cannot copy the control store at " + dir + " to read it: "
                    + e.getMessage(), e);
        }
        cfg.setUsername(EmbeddedStore.USER);
        cfg.setPassword(key);
        cfg.setPoolName("tandem-store-reader");
        cfg.setMaximumPoolSize(2);
        cfg.setMinimumIdle(1);
        cfg.setAutoCommit(true);
        cfg.setInitializationFailTimeout(1);
        cfg.setConnectionTimeout(10_000);
        Path made = copy;
        Runnable removeCopy = () -> {
            if (made != null) {
                EmbeddedStore.deleteCopy(made);
            }
        };
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(cfg);
        } catch (RuntimeException e) {
            removeCopy.run();
            throw new TandemException(ErrorCode.STORE, "cannot open the control store at " + dir + ": "
                    + rootMessage(e), e);
        }
        boolean behind;
        try {
            behind = Flyway.configure().dataSource(ds).locations("classpath:db/tandem-store")
                    .table("tandem_schema_history").placeholderReplacement(false).load().info().pending().length > 0;
        } catch (FlywayException e) {
            ds.close();
            removeCopy.run();
            throw new TandemException(ErrorCode.STORE, "cannot read the control store at " + dir + ": "
                    + rootMessage(e), e);
        }
        if (behind) {
            ds.close();
            removeCopy.run();
            return Optional.empty();
        }
        ControlStore store = new ControlStore(ds, true, dir.toString(), Clock.systemUTC());
        store.afterClose = removeCopy;
        return Optional.of(store);
    }

    /**
     * Opens (creating or upgrading as needed) the store at {@code location}. The embedded store may be changing
     * hands between processes ({@link EmbeddedStore#handingOver}): that is retried for up to a minute.
     */
    public static ControlStore open(String location, Function<String, String> env, Clock clock) {
        if (location.startsWith("jdbc:")) {
            return openOnce(location, env, clock);
        }
        long deadline = System.nanoTime() + EmbeddedStore.HAND_OVER_WAIT.toNanos();
        while (true) {
            try {
                return openOnce(location, env, clock);
            } catch (TandemException e) {
                if (!EmbeddedStore.handingOver(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                EmbeddedStore.pauseForHandOver();
            }
        }
    }

    private static ControlStore openOnce(String location, Function<String, String> env, Clock clock) {
        Where where = location.startsWith("jdbc:") ? postgres(location, env) : embedded(location);
        HikariConfig cfg = where.pool();
        String display = where.display();
        cfg.setPoolName("tandem-store");
        cfg.setMinimumIdle(1);
        cfg.setAutoCommit(true);
        // Fail at once, with the driver's reason, when the store cannot be reached (not after a 30 s pool wait).
        cfg.setInitializationFailTimeout(1);
        cfg.setConnectionTimeout(10_000);
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(cfg);
        } catch (RuntimeException e) {
            throw new TandemException(ErrorCode.STORE, "cannot open the control store at " + display + ": "
                    + rootMessage(e) + "; check that it is reachable and the credentials (" + ENV_USER + ", "
                    + ENV_PASSWORD + ")", e);
        }
        try {
            Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/tandem-store")
                    .table("tandem_schema_history")
                    .placeholderReplacement(false)
                    .load()
                    .migrate();
        } catch (FlywayException e) {
            ds.close();
            throw new TandemException(ErrorCode.STORE, "cannot open the control store at " + display + ": "
                    + rootMessage(e) + "; check that it is reachable and that the user may create tables", e);
        }
        ControlStore store = new ControlStore(ds, !location.startsWith("jdbc:"), display, clock);
        store.transaction("write the store's schema through", c -> null); // Flyway's DDL, durable like any write
        if (store.embedded) {
            EmbeddedStore.lockDown(Path.of(display));
        }
        return store;
    }

    /** A store's pool settings, and where it is in a form safe to print. */
    private record Where(HikariConfig pool, String display) {
    }

    /** A PostgreSQL store, with credentials from the environment. */
    private static Where postgres(String location, Function<String, String> env) {
        if (!location.startsWith("jdbc:postgresql:")) {
            throw TandemException.badInput("store " + JdbcUrls.redact(location) + " is not supported; use a "
                    + "directory for the embedded store, or a jdbc:postgresql: URL");
        }
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(location);
        String user = env.apply(ENV_USER);
        String password = env.apply(ENV_PASSWORD);
        if (user != null) {
            cfg.setUsername(user);
        }
        if (password != null) {
            cfg.setPassword(password);
        }
        cfg.setMaximumPoolSize(8);
        return new Where(cfg, JdbcUrls.redact(location));
    }

    /** The embedded H2 store in a directory, owner-only ({@link EmbeddedStore}). */
    private static Where embedded(String location) {
        Path dir = Path.of(location).toAbsolutePath().normalize();
        String key = EmbeddedStore.prepare(dir);
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(EmbeddedStore.url(dir));
        cfg.setUsername(EmbeddedStore.USER);
        cfg.setPassword(key);
        cfg.setMaximumPoolSize(4);
        return new Where(cfg, dir.toString());
    }

    public Migrations migrations() {
        return migrations;
    }

    public AuditLog audit() {
        return audit;
    }

    public Runs runs() {
        return runs;
    }

    public Positions positions() {
        return positions;
    }

    public AlertLog alerts() {
        return alerts;
    }

    public DriftLog drift() {
        return drift;
    }

    public Routing routing() {
        return routing;
    }

    public FailedTables failedTables() {
        return failedTables;
    }

    public TableShapes tableShapes() {
        return tableShapes;
    }

    /** Wakes this process's {@link #awaitChange} waiters: a migration or its routing changed. */
    public void changed() {
        synchronized (changes) {
            changeCount++;
            changes.notifyAll();
        }
    }

    /**
     * Waits up to {@code millis} for a {@link #changed} in this process (a change made by another process is only
     * seen by reading the store again; callers poll with a short wait).
     */
    public void awaitChange(long millis) throws InterruptedException {
        synchronized (changes) {
            long seen = changeCount;
            long deadline = System.nanoTime() + millis * 1_000_000L;
            while (changeCount == seen) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                changes.wait(Math.max(1, left / 1_000_000L));
            }
        }
    }

    public Fences fences() {
        return fences;
    }

    public LagSamples lag() {
        return lag;
    }

    public Requests requests() {
        return requests;
    }

    public Leases leases() {
        return leases;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Where changes held back for chunks being copied spill when they outgrow memory: {@code spill} in the store's
     * directory, or the system temp directory with a PostgreSQL store. Owner-only, like the store: rows may be
     * sensitive.
     */
    public java.nio.file.Path spillDirectory() {
        java.nio.file.Path base = display.startsWith("jdbc:") ? java.nio.file.Path.of(System.getProperty(
                "java.io.tmpdir"), "tandem-" + ProcessHandle.current().pid()) : java.nio.file.Path.of(display);
        return base.resolve("spill");
    }

    /** Where the store is, safe to print. */
    public String display() {
        return display;
    }

    public Instant now() {
        return clock.instant();
    }

    /**
     * A write: work on one connection in one transaction, committed when it returns (rolled back when it throws) and
     * durable before this returns, so the caller may act on it — copy a chunk, confirm a slot, print a run id.
     * <p>PostgreSQL's commit is durable by itself (synchronous_commit on). H2's is not: its MVStore keeps committed
     * changes in memory and writes them to the file about once a second, so a kill -9 lost the last second of
     * commits (chunk plans, statuses, stream positions the slot had already been told). Here every write is written
     * through and fsynced ({@code CHECKPOINT SYNC}) before it is acknowledged, which holds against a kill -9 and a
     * power loss alike; measured at about half a millisecond per write on this project's machines (README, "Control
     * store").
     */
    <T> T transaction(String what, SqlWork<T> work) {
        return run(what, work, true);
    }

    /** A read: work on one connection in one transaction (one consistent view), nothing to make durable. */
    <T> T read(String what, SqlWork<T> work) {
        return run(what, work, false);
    }

    /**
     * Runs {@code work} once; on the embedded store, again when it failed because the store was changing hands
     * ({@link EmbeddedStore#handingOver}): a write only when it failed before its commit (nothing of it was
     * committed; a failure in or after the commit is never retried, as the commit may have happened), a read
     * whenever (it wrote nothing).
     */
    private <T> T run(String what, SqlWork<T> work, boolean durable) {
        long deadline = System.nanoTime() + EmbeddedStore.HAND_OVER_WAIT.toNanos();
        while (true) {
            boolean committing = false;
            Connection c = null;
            try {
                c = dataSource.getConnection();
                c.setAutoCommit(false);
                T out;
                try {
                    out = work.apply(c);
                    committing = true;
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    rollbackQuietly(c);
                    throw e;
                }
                if (durable && embedded) {
                    c.setAutoCommit(true);
                    try (Statement st = c.createStatement()) {
                        st.execute("CHECKPOINT SYNC");
                    }
                }
                closeQuietly(c);
                return out;
            } catch (SQLException e) {
                if (!embedded || committing && durable || !EmbeddedStore.handingOver(e)
                        || System.nanoTime() > deadline) {
                    closeQuietly(c);
                    throw failure(what, e);
                }
                // Never back into the pool: the database may have closed under it (another store of this process
                // shut it, or H2 closed it), and the pool hands a connection used in the last half second out
                // again unchecked, so every retry would meet the same dead session.
                if (c != null) {
                    dataSource.evictConnection(c);
                }
            } catch (RuntimeException e) {
                closeQuietly(c);
                throw e;
            }
            EmbeddedStore.pauseForHandOver();
        }
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // the pool's proxy: it drops a broken connection itself
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            // the connection is gone: so is what it had not committed
        }
    }


    TandemException failure(String what, SQLException e) {
        return new TandemException(ErrorCode.STORE, "control store " + display + ": " + what + " failed: "
                + e.getMessage(), e);
    }

    static OffsetDateTime ts(Instant i) {
        return i == null ? null : OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
    }

    static Instant instant(java.sql.ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static String rootMessage(Throwable t) {
        Throwable cur = t;
        while (cur.getCause() != null && cur.getCause() != cur) {
            cur = cur.getCause();
        }
        return cur.getMessage();
    }

    @Override
    public void close() {
        dataSource.close();
        afterClose.run();
    }

    /** A unit of JDBC work. */
    @FunctionalInterface
    interface SqlWork<T> {
        T apply(Connection c) throws SQLException;
    }
}
