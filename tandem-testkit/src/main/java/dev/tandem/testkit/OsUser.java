package dev.tandem.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Who database server processes run as. PostgreSQL refuses to run as root ("initdb: cannot be run as root"), so
 * when this JVM is root its processes run as the unprivileged user {@code nobody} (through {@code setpriv}, else
 * {@code runuser}) and its data directory belongs to that user. For an ordinary user nothing changes: processes run
 * as that user.
 */
final class OsUser {
    static final String UNPRIVILEGED = "nobody";

    private final String name;
    private final int uid;
    private final int gid;
    private final List<String> prefix;

    private OsUser(String name, int uid, int gid, List<String> prefix) {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
        this.prefix = prefix;
    }

    static boolean runningAsRoot() {
        return new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    /** The user for database processes: empty when this JVM's own user will do (it is not root). */
    static Optional<OsUser> forDatabaseProcesses() {
        if (!runningAsRoot()) {
            return Optional.empty();
        }
        String[] entry = passwdEntry(UNPRIVILEGED).orElseThrow(() -> new IllegalStateException(
                "running as root, and there is no user '" + UNPRIVILEGED + "' to run PostgreSQL as; create one "
                        + "(useradd -r " + UNPRIVILEGED + ") or run the tests as an ordinary user"));
        int uid = Integer.parseInt(entry[2]);
        int gid = Integer.parseInt(entry[3]);
        List<String> prefix = new ArrayList<>();
        Optional<Path> setpriv = onPath("setpriv");
        if (setpriv.isPresent()) {
            prefix.addAll(List.of(setpriv.get().toString(), "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--"));
        } else {
            Path runuser = onPath("runuser").orElseThrow(() -> new IllegalStateException("running as root, and "
                    + "neither setpriv nor runuser (util-linux) is installed to start PostgreSQL as " + UNPRIVILEGED));
            prefix.addAll(List.of(runuser.toString(), "-u", UNPRIVILEGED, "--"));
        }
        return Optional.of(new OsUser(UNPRIVILEGED, uid, gid, prefix));
    }

    /** The command that runs {@code command} as this user. */
    List<String> command(List<String> command) {
        List<String> out = new ArrayList<>(prefix);
        out.addAll(command);
        return out;
    }

    /** Makes this user the owner of {@code path} and everything under it. */
    void own(Path path) throws IOException {
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        UserPrincipal user = lookup.lookupPrincipalByName(name);
        GroupPrincipal group = lookup.lookupPrincipalByGroupName(String.valueOf(gid));
        try (Stream<Path> all = Files.walk(path)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
                view.setOwner(user);
                view.setGroup(group);
            }
        }
    }

    @Override
    public String toString() {
        return name + " (uid " + uid + ")";
    }

    private static Optional<String[]> passwdEntry(String user) {
        try (Stream<String> lines = Files.lines(Path.of("/etc/passwd"))) {
            return lines.map(l -> l.split(":")).filter(f -> f.length >= 4 && f[0].equals(user)).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<Path> onPath(String program) {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(List.of((path == null ? "" : path).split(":")));
        dirs.addAll(List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, program)).filter(Files::isExecutable)
                .findFirst();
    }
}
