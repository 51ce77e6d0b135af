package dev.tandem.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** File chores of the testkit. */
final class Files2 {
    private Files2() {
    }

    /** Deletes a directory tree; what cannot be deleted is left, never an error (this runs during cleanup). */
    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover temp file is not worth failing a test over
                }
            });
        } catch (IOException ignored) {
            // best effort, as above
        }
    }

    /** The last {@code n} lines of a log file, for error messages. */
    static String tail(Path file, int n) {
        try {
            List<String> lines = Files.readAllLines(file);
            List<String> last = new ArrayList<>(lines.subList(Math.max(0, lines.size() - n), lines.size()));
            return String.join("\n", last);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
