package dev.tandem.core.plan;

import dev.tandem.core.error.ErrorCode;
import java.util.List;

/** The outcome of {@code tandem plan}: every finding on both endpoints, the tables, and the steps a run would take. */
public record PlanReport(String migrationId, boolean ok, EndpointReport source, EndpointReport target,
                         List<TablePlan> tables, List<String> steps) {

    /** Why the plan failed: source problems first (exit 4), then target problems (exit 5); null when ok. */
    public ErrorCode failure() {
        if (source.hasErrors()) {
            return ErrorCode.SOURCE;
        }
        if (target.hasErrors()) {
            return ErrorCode.TARGET;
        }
        return null;
    }
}
