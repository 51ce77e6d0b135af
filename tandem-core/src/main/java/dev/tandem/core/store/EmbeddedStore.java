package dev.tandem.core.store;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Base64;
import java.util.Set;

/**
 * The embedded H2 store's files, reachable by their owner only. The store holds manifests (with their secret
 * references), positions and the audit log, and H2 can run code given SQL access; so:
 * <ul>
 *   <li>the directory is made 0700 and every file in it 0600 each time the store is opened, not only when Tandem
 *       created it (a directory made by hand, or by an older Tandem, was left 0755 with 0644 files);</li>
 *   <li>the database user has a random password kept in {@code store.key} (0600) beside the data; a store made with
 *       the old empty password gets one the first time it is opened;</li>
 *   <li>H2's auto-server, through which a second Tandem process (a {@code tandem status} beside a running
 *       {@code tandem migrate}) reaches the store, listens on the loopback interface only (H2 binds it to all
 *       interfaces by default); connecting to it needs that password as well as the key in H2's lock file.</li>
 * </ul>
 * <p>Processes hand the store over to each other (whoever opens it first serves it; when it closes, another takes
 * the file): {@link #handingOver} tells those passing failures apart, and the store retries them.
 * A directory Tandem cannot make owner-only (another user's) is refused: its owner could read everything in it.
 */
final class EmbeddedStore {
    /** The database user of the embedded store. */
    static final String USER = "tandem";
    private static final String KEY_FILE = "store.key";
    /** How long the store may take to change hands between processes before that is an error. */
    static final java.time.Duration HAND_OVER_WAIT = java.time.Duration.ofSeconds(60);
    /** The messages of H2's file lock when another process took or let go of the file at the same moment. */
    private static final java.util.regex.Pattern LOCK_RACES = java.util.regex.Pattern.compile(
            "Lock file recently modified|Another process was faster|Concurrent update");
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    static {
        // H2 reads it once, when its first class loads: set before any H2 connection is made in this process.
        if (System.getProperty("h2.bindAddress") == null) {
            System.setProperty("h2.bindAddress", "127.0.0.1");
        }
    }

    private EmbeddedStore() {
    }

    /**
     * The JDBC URL of the store in {@code dir}. On H2's {@code async:} file system (an AsynchronousFileChannel): a
     * FileChannel is closed for every thread when one thread is interrupted in the middle of a write, and Tandem
     * interrupts its helper threads (lag sampler, lease heartbeat, watchers) when a stream or run ends, one of which
     * may be writing to the store just then; every later write of the process then failed ("Writing to
     * FileChannelImpl failed" at a pause, seen in SchemaChangeIT under load). The file is the same either way.
     */
    static String url(Path dir) {
        return "jdbc:h2:async:" + dir.resolve("store") + ";AUTO_SERVER=TRUE";
    }

    /**
     * The URL of the process serving the store in {@code dir} now (H2's auto-server, named in its lock file with the
     * key its TCP server maps to the database), or empty when none answers. A reader connecting there is a client
     * only: when that process is gone the connection is refused, and the reader never starts serving the file itself.
     */
    static java.util.Optional<String> servedUrl(Path dir) {
        Path lock = dir.resolve("store.lock.db");
        java.util.Properties p = new java.util.Properties();
        try (var in = Files.newInputStream(lock)) {
            p.load(in);
        } catch (IOException e) {
            return java.util.Optional.empty(); // no lock file: nobody serves it
        }
        String server = p.getProperty("server");
        String id = p.getProperty("id");
        if (server == null || id == null || server.lastIndexOf(':') < 0) {
            return java.util.Optional.empty();
        }
        String host = server.substring(0, server.lastIndexOf(':'));
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(new java.net.InetSocketAddress(host, Integer.parseInt(server.substring(
                    server.lastIndexOf(':') + 1))), 300);
        } catch (IOException | NumberFormatException e) {
            return java.util.Optional.empty(); // a lock file left by a process that is gone, or going
        }
        return java.util.Optional.of("jdbc:h2:tcp://" + server + "/" + id);
    }

    /**
     * A private copy of the store's file for a reader when no process serves it: the reader opens the copy read-only
     * and so never takes the file (a process that starts meanwhile takes it as usual). In an owner-only directory
     * under the store's; {@link #deleteCopy} removes it.
     */
    static Path copyForReading(Path dir) throws IOException {
        Path readers = dir.resolve(".readers");
        Files.createDirectories(readers);
        ownerOnlyDirectory(readers);
        removeStaleCopies(readers);
        Path copy = Files.createTempDirectory(readers, "reader-");
        ownerOnlyDirectory(copy);
        Path file = copy.resolve("store.mv.db");
        Files.copy(dir.resolve("store.mv.db"), file);
        if (Files.getFileStore(copy).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(file, FILE);
        }
        return copy;
    }

    /** The URL of a reader's copy ({@link #copyForReading}): read-only. */
    static String readOnlyUrl(Path copy) {
        return "jdbc:h2:async:" + copy.resolve("store") + ";ACCESS_MODE_DATA=r";
    }

    static void deleteCopy(Path copy) {
        try (var files = Files.list(copy)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(copy);
        } catch (IOException e) {
            // left behind, in the owner-only store directory: the next reader removes it (removeStaleCopies)
        }
    }

    /** Copies readers left (killed before they closed), older than ten minutes. */
    private static void removeStaleCopies(Path readers) throws IOException {
        java.time.Instant old = java.time.Instant.now().minus(java.time.Duration.ofMinutes(10));
        try (var dirs = Files.list(readers)) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                if (Files.isDirectory(d) && Files.getLastModifiedTime(d).toInstant().isBefore(old)) {
                    deleteCopy(d);
                }
            }
        }
    }

    /** The store's password, when it has its key file (a store without one is opened, and keyed, by a writer). */
    static java.util.Optional<String> existingKey(Path dir) {
        Path file = dir.resolve(KEY_FILE);
        try {
            return Files.exists(file) ? java.util.Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim())
                    : java.util.Optional.empty();
        } catch (IOException e) {
            throw new TandemException(ErrorCode.STORE, "cannot read the store's key " + file + ": " + e, e);
        }
    }

    private static void ownerOnlyDirectory(Path d) throws IOException {
        if (Files.getFileStore(d).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(d, DIR);
        }
    }

    /**
     * Makes {@code dir} owner-only (creating it when missing) and returns the store's password, creating it for a new
     * store and setting it on a store that still has the old empty one.
     */
    static String prepare(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
            }
            ownerOnly(dir);
        } catch (IOException e) {
            throw TandemException.badInput("cannot use " + dir + " as the store directory: " + e.getMessage()
                    + "; pass --store with a directory of your own");
        }
        String key = key(dir);
        upgradeEmptyPassword(dir, key);
        return key;
    }

    /** Owner-only again, after H2 made its files (they follow the umask). */
    static void lockDown(Path dir) {
        try {
            ownerOnly(dir);
        } catch (IOException e) {
            throw new TandemException(ErrorCode.STORE, "cannot make the store at " + dir + " owner-only: " + e, e);
        }
    }

    private static void ownerOnly(Path dir) throws IOException {
        if (!Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            return; // no POSIX permissions to set (Windows): the directory's ACL is the operator's
        }
        try {
            Files.setPosixFilePermissions(dir, DIR);
        } catch (java.nio.file.FileSystemException e) { // EPERM: not the owner
            throw TandemException.badInput("the store directory " + dir + " belongs to " + Files.getOwner(dir)
                    .getName() + ", so Tandem cannot make it owner-only, and its owner could read every manifest, "
                    + "position and secret reference in it; pass --store with a directory of your own");
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                if (Files.isRegularFile(f)) {
                    try {
                        Files.setPosixFilePermissions(f, FILE);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // removed while listed: another opener's key file in the making (made 0600), or H2's
                        // temporary files
                    }
                }
            }
        }
    }

    /** The password in {@code store.key}, made (random, 0600 from its creation) when there is none. */
    private static String key(Path dir) {
        Path file = dir.resolve(KEY_FILE);
        try {
            if (Files.exists(file)) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            }
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            String key = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
            FileAttribute<Set<PosixFilePermission>> ownerOnly = PosixFilePermissions.asFileAttribute(FILE);
            boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
            Path tmp = posix ? Files.createTempFile(dir, KEY_FILE, ".new", ownerOnly)
                    : Files.createTempFile(dir, KEY_FILE, ".new");
            Files.writeString(tmp, key, StandardCharsets.UTF_8);
            try {
                // a hard link appears whole and never replaces one: two processes opening a new store at once (a
                // tandem migrate and a tandem status) agree on the key the first one made
                Files.createLink(file, tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return Files.readString(file, StandardCharsets.UTF_8).trim();
            } catch (UnsupportedOperationException e) {
                Files.move(tmp, file); // no hard links here: fails, too, when the file exists
            } finally {
                Files.deleteIfExists(tmp);
            }
            return key;
        } catch (IOException e) {
            throw new TandemException(ErrorCode.STORE, "cannot read or write the store's key " + file + ": " + e, e);
        }
    }

    /**
     * A store made before it had a password (user tandem, empty password) gets {@code key}. Nothing to do when the
     * key opens it already, or when there is no database yet (H2 creates it with the key).
     */
    private static void upgradeEmptyPassword(Path dir, String key) {
        if (!Files.exists(dir.resolve("store.mv.db"))) {
            return;
        }
        try (Connection c = DriverManager.getConnection(url(dir), USER, key)) {
            return; // already has it
        } catch (SQLException e) {
            if (!wrongPassword(e)) {
                return; // in use, unreadable...: the pool's open reports it
            }
        }
        try (Connection c = DriverManager.getConnection(url(dir), USER, "");
             PreparedStatement ps = c.prepareStatement("ALTER USER " + USER + " SET PASSWORD ?")) {
            ps.setString(1, key);
            ps.execute();
            try (PreparedStatement cp = c.prepareStatement("CHECKPOINT SYNC")) {
                cp.execute();
            }
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.STORE, "the store at " + dir + " does not open with its key ("
                    + KEY_FILE + "); restore the key file that belongs to it: " + e.getMessage(), e);
        }
    }

    /**
     * Whether {@code t} is the store changing hands between processes, which passes: the process serving it (H2's
     * auto-server) closed and another is taking the file over ({@code Connection is broken}, {@code Database may be
     * already in use}), or several short-lived processes ({@code tandem status} in a loop) keep taking it in turns
     * ({@code Lock file recently modified}, {@code Another process was faster}, {@code Concurrent update}: H2's
     * file lock), or the database closed under an open. Worth retrying for a while, not worth failing a migration
     * over.
     */
    static boolean handingOver(Throwable t) {
        for (Throwable cur = t; cur != null; cur = cur.getCause() == cur ? null : cur.getCause()) {
            if (cur instanceof SQLException e && (e.getErrorCode() == 90020 || e.getErrorCode() == 90067
                    || e.getErrorCode() == 90098 || e.getErrorCode() == 90121 || e.getErrorCode() == 8000
                    && LOCK_RACES.matcher(String.valueOf(e.getMessage())).find())) {
                return true;
            }
            if (cur instanceof java.net.ConnectException) {
                return true; // the lock file still named a server that had just gone
            }
            if (cur instanceof java.sql.SQLTransientConnectionException) {
                return true; // the pool could not make a connection in time: every try met one of the above
            }
            if (cur instanceof SQLException e && e.getSQLState() != null && e.getSQLState().startsWith("08")) {
                return true; // the pool's connection closed under it: the store is a file here, not a network
            }
        }
        return false;
    }

    /** 100-400 ms between attempts, so processes taking the store in turns do not keep colliding. */
    static void pauseForHandOver() {
        try {
            Thread.sleep(100 + java.util.concurrent.ThreadLocalRandom.current().nextInt(300));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TandemException(ErrorCode.STORE, "interrupted while the control store changed hands", e);
        }
    }

    /** H2's "Wrong user name or password" (28000). */
    static boolean wrongPassword(SQLException e) {
        return "28000".equals(e.getSQLState()) || e.getErrorCode() == 28000;
    }
}
