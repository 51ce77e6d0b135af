package dev.tandem.server;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code tandem migrate} in a child JVM running the packaged jar, so a test can kill it with -9. */
final class ChildMigrate {
    private ChildMigrate() {
    }

    /** Starts it; output and errors go to {@code log}. */
    static Process start(Path manifest, String store, Path log, Map<String, String> env, String... more)
            throws java.io.IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-jar",
                Path.of("target", "tandem.jar").toAbsolutePath().toString(), "migrate", "-f", manifest.toString(),
                "--store", store));
        cmd.addAll(List.of(more));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }
}
