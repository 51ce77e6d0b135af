package dev.tandem.server.cli;

import dev.tandem.core.backfill.BackfillListener;
import dev.tandem.core.plan.Sizes;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of a backfill for people: per table, rows done of the estimate, rows/s and ETA. On a terminal the lines
 * are redrawn in place every second; otherwise (CI logs, pipes) a block is printed every few seconds, and only when
 * something moved.
 */
final class ProgressPrinter implements BackfillListener, AutoCloseable {
    private static final int BAR = 24;

    private final PrintWriter out;
    private final boolean interactive;
    private final Map<String, Table> tables = new ConcurrentHashMap<>();
    private final List<String> order = new ArrayList<>();
    private final Thread painter;
    private int drawnLines;
    private String lastBlock = "";
    private volatile boolean closed;

    ProgressPrinter(PrintWriter out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
        this.painter = new Thread(this::paintLoop, "tandem-progress");
        painter.setDaemon(true);
        painter.start();
    }

    private static final class Table {
        final long estimated;
        final int chunks;
        final AtomicLong rows = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong chunksDone = new AtomicLong();
        final AtomicLong retries = new AtomicLong();
        volatile long startNanos;
        volatile long endNanos;

        Table(long estimated, int chunks) {
            this.estimated = estimated;
            this.chunks = chunks;
        }
    }

    @Override
    public synchronized void planned(String table, long estimatedRows, int chunks) {
        tables.put(table, new Table(estimatedRows, chunks));
        order.add(table);
    }

    @Override
    public void rows(String table, long rows, long bytes) {
        Table t = tables.get(table);
        if (t.startNanos == 0) {
            t.startNanos = System.nanoTime();
        }
        t.rows.addAndGet(rows);
        t.bytes.addAndGet(bytes);
    }

    @Override
    public void chunkDone(String table, int chunkNo, long rows, long bytes, long streamedRows) {
        Table t = tables.get(table);
        if (t.startNanos == 0) {
            t.startNanos = System.nanoTime();
        }
        t.rows.addAndGet(rows - streamedRows);
        if (t.chunksDone.incrementAndGet() == t.chunks) {
            t.endNanos = System.nanoTime();
        }
    }

    @Override
    public void chunkFailed(String table, int chunkNo, int attempt, String error, boolean willRetry, long streamedRows) {
        Table t = tables.get(table);
        t.rows.addAndGet(-streamedRows);
        t.retries.incrementAndGet();
        synchronized (this) {
            clear();
            out.println((willRetry ? "  retrying " : "  FAILED ") + table + " chunk " + chunkNo + " (attempt "
                    + (attempt + 1) + "): " + error);
            out.flush();
        }
    }

    @Override
    public synchronized void warning(String message) {
        clear();
        out.println("  warning: " + message);
        out.flush();
    }

    private void paintLoop() {
        long interval = interactive ? 1000 : 5000;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            paint(false);
        }
    }

    private synchronized void paint(boolean last) {
        List<String> lines = new ArrayList<>();
        int w = order.stream().mapToInt(String::length).max().orElse(5);
        for (String name : order) {
            lines.add(line(name, tables.get(name), w));
        }
        String block = String.join("\n", lines);
        if (!interactive && !last && block.equals(lastBlock)) {
            return;
        }
        lastBlock = block;
        clear();
        for (String l : lines) {
            out.println(l);
        }
        drawnLines = interactive && !last ? lines.size() : 0;
        out.flush();
    }

    private void clear() {
        if (interactive && drawnLines > 0) {
            out.print("\u001b[" + drawnLines + "F\u001b[J");
            drawnLines = 0;
        }
    }

    private static String line(String name, Table t, int width) {
        long done = t.rows.get();
        long total = Math.max(t.estimated, done);
        boolean finished = t.chunks > 0 && t.chunksDone.get() == t.chunks;
        double fraction = finished ? 1.0 : total == 0 ? 0.0 : Math.min(0.99, (double) done / total);
        int filled = (int) Math.round(fraction * BAR);
        long end = t.endNanos != 0 ? t.endNanos : System.nanoTime();
        double seconds = t.startNanos == 0 ? 0 : (end - t.startNanos) / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = finished ? "done in " + duration(seconds)
                : rate > 0 ? "ETA " + duration((total - done) / rate) : t.startNanos == 0 ? "waiting" : "ETA -";
        return String.format(Locale.ROOT, "  %-" + width + "s [%s%s] %3d%%  %,d / %,d rows  %d/%d chunks  %s  %,.0f "
                + "rows/s  %s", name, "#".repeat(filled), "-".repeat(BAR - filled), Math.round(fraction * 100), done,
                total, t.chunksDone.get(), t.chunks, Sizes.bytes(t.bytes.get()), rate, eta);
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return seconds < 10 ? String.format(Locale.ROOT, "%.1fs", seconds) : s + "s";
        }
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    @Override
    public void finished() {
        close();
    }

    /** Stops the painter and prints the final state once (again calls do nothing). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        painter.interrupt();
        try {
            painter.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!order.isEmpty()) {
            paint(true);
        }
    }
}
