package dev.tandem.core.plan;

import dev.tandem.core.error.ErrorCode;
import java.util.List;

/** The outcome of {@code tandem plan}: every finding on both endpoints, the tables, and the steps a run would take. */
public record PlanReport(String migrationId, boolean ok, EndpointReport source, EndpointReport target,
                         List<TablePlan> tables, List<String> steps) {

    /**
     * Why the plan failed: source problems first (exit 4), then target problems (exit 5), then what the manifest asks
     * for and this version does not build (bad input, exit 2); null when ok.
     */
    public ErrorCode failure() {
        if (source.findings().stream().anyMatch(f -> f.isError() && !f.check().equals(NOT_BUILT))) {
            return ErrorCode.SOURCE;
        }
        if (target.findings().stream().anyMatch(f -> f.isError() && !f.check().equals(NOT_BUILT))) {
            return ErrorCode.TARGET;
        }
        // only what this version does not build: the manifest asks for it, the databases are fine
        return source.hasErrors() || target.hasErrors() ? ErrorCode.BAD_INPUT : null;
    }

    /** The check of a finding that says a manifest asks for something this version does not build. */
    public static final String NOT_BUILT = "built";
}
