package dev.tandem.core.manifest;

import java.util.List;

/** Seed 000's {@code alerting.rules}. */
public record Alerting(List<Rule> rules) {
    public static final Alerting NONE = new Alerting(List.of());

    public Alerting {
        rules = List.copyOf(rules);
    }

    public enum Severity {
        LOW,
        MEDIUM,
        HIGH,
        CRITICAL
    }

    /** One rule: {@code {name, condition: "lag_seconds > 300", severity, message, webhook}}. */
    public record Rule(String name, AlertCondition condition, Severity severity, String message, String webhook) {
    }
}
