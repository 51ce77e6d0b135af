package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The changes held back for one chunk while it copies (correctness point 3). Kept in memory while the shared
 * budget allows, then appended to a file in the spill directory, so a long chunk under heavy writes holds bounded
 * memory. Order is kept: once spilled, every later change goes to the file too. Not thread-safe: its gate guards
 * it.
 */
final class SpillBuffer {
    private final Path dir;
    private final AtomicLong budget;
    private final List<Change> memory = new ArrayList<>();
    private long reserved;
    private Path file;
    private DataOutputStream out;
    private long spilled;

    /**
     * @param budget bytes of memory still free for all buffers together; shared
     */
    SpillBuffer(Path dir, AtomicLong budget) {
        this.dir = dir;
        this.budget = budget;
    }

    void add(Change c) {
        long size = c.sizeEstimate();
        if (out == null && budget.addAndGet(-size) >= 0) {
            memory.add(c);
            reserved += size;
            return;
        }
        if (out == null) {
            budget.addAndGet(size);
        }
        try {
            if (out == null) {
                Files.createDirectories(dir);
                file = Files.createTempFile(dir, "chunk-", ".changes");
                out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
            }
            ChangeCodec.write(out, c);
            spilled++;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot spill held-back changes to " + dir + ": " + e.getMessage()
                    + "; free disk space there", e);
        }
    }

    boolean isEmpty() {
        return memory.isEmpty() && spilled == 0;
    }

    long size() {
        return memory.size() + spilled;
    }

    long spilled() {
        return spilled;
    }

    /** Hands every held change, in order, to {@code sink} in lists of at most {@code batch}; then empties itself. */
    void drain(int batch, BatchSink sink) throws Exception {
        try {
            for (int i = 0; i < memory.size(); i += batch) {
                sink.accept(memory.subList(i, Math.min(memory.size(), i + batch)));
            }
            if (out != null) {
                out.close();
                try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file),
                        1 << 16))) {
                    List<Change> part = new ArrayList<>(batch);
                    for (long i = 0; i < spilled; i++) {
                        part.add(ChangeCodec.read(in));
                        if (part.size() == batch) {
                            sink.accept(part);
                            part = new ArrayList<>(batch);
                        }
                    }
                    if (!part.isEmpty()) {
                        sink.accept(part);
                    }
                }
            }
        } finally {
            discard();
        }
    }

    /** Forgets every held change (its chunk will be copied again, or its table failed). */
    void discard() {
        memory.clear();
        budget.addAndGet(reserved);
        reserved = 0;
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // the file is deleted next
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temp file left in the spill directory; the next start clears the directory
            }
            out = null;
            file = null;
        }
        spilled = 0;
    }

    interface BatchSink {
        void accept(List<Change> changes) throws Exception;
    }
}
