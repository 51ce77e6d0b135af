package dev.tandem.server.cli;

import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.plan.EndpointReport;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.plan.Sizes;
import dev.tandem.core.plan.TablePlan;
import dev.tandem.core.spi.Finding;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/** The plan for people: each endpoint's checks with their fixes, the tables, the steps, and the verdict. */
final class PlanPrinter {
    /** Passed per-table checks that the tables section already shows (key, target action). */
    private static final java.util.Set<String> SHOWN_IN_TABLES = java.util.Set.of("primary_key", "target_table_absent",
            "target_table_empty");

    private final PrintWriter out;

    PlanPrinter(PrintWriter out) {
        this.out = out;
    }

    void print(Manifest m, PlanReport r) {
        out.println("Plan for migration " + m.id() + (m.description() == null ? "" : ": " + m.description()));
        out.println();
        endpoint("Source", r.source());
        endpoint("Target", r.target());
        if (!r.tables().isEmpty()) {
            out.println("Tables (" + r.tables().size() + ")");
            int w = Math.max(5, r.tables().stream().mapToInt(t -> t.table().length()).max().orElse(5));
            int kw = Math.max(3, r.tables().stream().mapToInt(t -> key(t).length()).max().orElse(3));
            String row = "  %-" + w + "s  %12s  %10s  %-" + kw + "s  %6s  %s%n";
            out.printf(Locale.ROOT, row, "TABLE", "ROWS (EST.)", "SIZE", "KEY", "CHUNKS", "TARGET");
            for (TablePlan t : r.tables()) {
                out.printf(Locale.ROOT, row, t.table(),
                        t.estimatedRows() < 0 ? "not analyzed" : String.format(Locale.ROOT, "%,d", t.estimatedRows()),
                        Sizes.bytes(t.estimatedBytes()), key(t), String.valueOf(t.estimatedChunks()), t.targetAction());
            }
            out.println();
        }
        out.println("What 'tandem migrate' would do");
        List<String> steps = r.steps();
        for (int i = 0; i < steps.size(); i++) {
            out.println("  " + (i + 1) + ". " + steps.get(i));
        }
        out.println();
        long srcErrors = r.source().findings().stream().filter(Finding::isError).count();
        long tgtErrors = r.target().findings().stream().filter(Finding::isError).count();
        if (r.ok()) {
            long warnings = r.source().findings().stream().filter(f -> f.severity() == Finding.Severity.WARNING).count()
                    + r.target().findings().stream().filter(f -> f.severity() == Finding.Severity.WARNING).count();
            out.println("Ready: every check passed" + (warnings > 0 ? " (" + warnings + " warning"
                    + (warnings == 1 ? "" : "s") + " above)" : "") + ".");
        } else {
            out.println("Not ready: " + srcErrors + " problem" + (srcErrors == 1 ? "" : "s") + " on the source, "
                    + tgtErrors + " on the target. Fix them and run plan again (exit " + r.failure().exitCode() + ").");
        }
    }

    private static String key(TablePlan t) {
        return t.key().isEmpty() ? "none" : t.keyKind() + " (" + String.join(", ", t.key()) + ")";
    }

    private void endpoint(String title, EndpointReport e) {
        out.println(title + "  " + e.url() + (e.server() == null ? "" : "  (" + e.server() + ")"));
        if (e.changeLogPosition() != null) {
            out.println("  change log position now: " + e.changeLogPosition());
        }
        for (Finding f : e.findings()) {
            if (f.severity() == Finding.Severity.OK && SHOWN_IN_TABLES.contains(f.check())) {
                continue;
            }
            String mark = switch (f.severity()) {
                case OK -> "  [ok]    ";
                case WARNING -> "  [warn]  ";
                case ERROR -> "  [ERROR] ";
            };
            out.println(mark + f.message());
            if (f.fix() != null && f.severity() != Finding.Severity.OK) {
                out.println("          fix: " + f.fix());
            }
        }
        out.println();
    }
}
