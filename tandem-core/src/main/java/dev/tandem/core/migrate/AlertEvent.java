package dev.tandem.core.migrate;

/**
 * An alert rule of {@code alerting.rules} that started firing or resolved.
 *
 * @param severity as the manifest says it, lower case
 * @param observed the figures its condition looked at, e.g. {@code lag_seconds=412.0}; for a resolution without a
 *                 measurement, why it resolved (the migration ended, say)
 */
public record AlertEvent(String rule, String severity, boolean firing, String condition, String message,
                         String observed) {

    /** As the CLI prints it: {@code ALERT high high_cdc_lag: ... (lag_seconds > 300; lag_seconds=412.0)}. */
    public String line() {
        return firing ? "ALERT " + severity + " " + rule + ": " + (message == null ? condition : message) + " ("
                + condition + "; " + observed + ")" : "alert resolved: " + rule + " (" + observed + ")";
    }
}
