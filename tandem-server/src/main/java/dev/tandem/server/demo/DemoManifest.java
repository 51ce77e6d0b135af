package dev.tandem.server.demo;

import java.util.List;

/** The manifest the demo writes: seed 000's migration block and seed 002's strategy, data and failure handling. */
public final class DemoManifest {
    public static final String ID = "shop-demo";
    public static final String SOURCE_PASSWORD_ENV = "TANDEM_DEMO_SOURCE_PASSWORD";
    public static final String TARGET_PASSWORD_ENV = "TANDEM_DEMO_TARGET_PASSWORD";

    private DemoManifest() {
    }

    /**
     * @param source   the source, which says its URL, tables and change capture
     * @param stopWhen {@code manual} (stream until tandem stop) or {@code in_sync} (finish once the target holds
     *                 everything the source committed)
     */
    static String yaml(DemoSource source, String targetUrl, String stopWhen) {
        return String.join("\n", List.of(
                "# Written by `tandem demo`. Passwords come from the environment, never from this file.",
                "id: " + ID,
                "description: Move the demo shop from " + source.engine() + " to PostgreSQL",
                "source:",
                "  url: " + source.jdbcUrl(),
                "  user: " + DemoShop.MIGRATOR,
                "  password: ${env:" + SOURCE_PASSWORD_ENV + "}",
                "target:",
                "  url: " + targetUrl,
                "  user: " + DemoShop.MIGRATOR,
                "  password: ${env:" + TARGET_PASSWORD_ENV + "}",
                "scope:",
                "  tables: [" + String.join(", ", source.scope()) + "]",
                "schema: create",
                "data: {type: scan, replace: replace, chunk_rows: 2000, parallelism: 2, rows_per_second: 10000}",
                "migration:",
                "  type: incremental",
                "  initial_load: {enabled: true}",
                "  cdc: {method: " + source.cdcMethod() + ", heartbeat_interval: 1s}",
                "  conflict_resolution: source_wins",
                "  continuous: {enabled: true, stop_when: " + stopWhen + "}",
                "strategy:",
                "  type: canary",
                "  read_percentage: 0.05",
                "  write_mode: {mode: dual_write, policy: old_authoritative}",
                "validation: {mode: checksum, continuous: true, shadow_reads: {sample: 0.01}}",
                "abort_thresholds: {lag_seconds: 300, drift_rows: 0, error_rate: 0.01}",
                "failure_handling: {type: retry_then_all, retry_count: 3}",
                "alerting:",
                "  rules:",
                "    - {name: high_cdc_lag, condition: lag_seconds > 300, severity: high, "
                        + "message: \"CDC lag exceeded 5 minutes\"}",
                ""));
    }
}
