package dev.tandem.core.verify;

import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/** A verification's progress line every 5 s: chunks, rows compared, rows/s, ETA. */
final class VerifyProgress {
    private final long t0;
    private final int chunks;
    private final Map<String, VerifyReport.Tally> tallies;
    private int done;
    private final Consumer<String> say;
    private long lastSay = System.nanoTime();

    VerifyProgress(long t0, int chunks, Map<String, VerifyReport.Tally> tallies, Consumer<String> say) {
        this.say = say;
        this.t0 = t0;
        this.chunks = chunks;
        this.tallies = tallies;
    }

    /** One more chunk compared; says so when the last line is 5 s old. */
    synchronized void chunkDone() {
        done++;
        if (System.nanoTime() - lastSay < 5_000_000_000L) {
            return;
        }
        lastSay = System.nanoTime();
        double secs = (lastSay - t0) / 1e9;
        long rows = 0;
        for (VerifyReport.Tally x : tallies.values()) {
            synchronized (x) {
                rows += x.processed;
            }
        }
        say.accept(String.format(Locale.ROOT, "  %d/%d chunks, %,d rows compared (%,.0f rows/s), ETA %.0f s",
                done, chunks, rows, rows / secs, secs / done * (chunks - done)));
    }
}
