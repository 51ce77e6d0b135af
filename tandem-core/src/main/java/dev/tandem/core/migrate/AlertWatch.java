package dev.tandem.core.migrate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.manifest.AlertCondition;
import dev.tandem.core.manifest.Alerting;
import dev.tandem.core.store.AlertLog;
import dev.tandem.core.store.ControlStore;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seed 000's {@code alerting.rules}, evaluated on a running migration's figures about once a second. A rule whose
 * condition becomes true fires once: a row in the store (status and metrics of any process read it), a line for the
 * operator, the gauge {@code tandem.alert.firing}, and a POST to its webhook if it has one; when the condition turns
 * false it resolves the same way. A rule naming a figure not measured now (drift_rows without verification, say)
 * keeps its state. Alerts never act on the migration — abort thresholds do.
 * <p>Webhook body: {@code {migration_id, alert, severity, state: firing|resolved, condition, message, observed, at}}.
 * Delivery is asynchronous with a 5 s timeout; a failure is logged (host only: a URL may hold a token) and not
 * retried.
 */
public final class AlertWatch {
    private static final Logger LOG = LoggerFactory.getLogger(AlertWatch.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ControlStore store;
    private final String migrationId;
    private final List<Alerting.Rule> rules;
    private final AlertLog log;
    private final Consumer<AlertEvent> events;
    private final Map<String, Long> open = new HashMap<>();
    /** One gauge per migration and rule for the process's life (a registry keeps the first object it was given). */
    private static final Map<String, AtomicInteger> GAUGES = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> gauges = new HashMap<>();
    private HttpClient http;

    /** Alerts a previous process left firing stay open (not fired twice); they resolve when their rule does. */
    public AlertWatch(ControlStore store, String migrationId, Alerting alerting, Consumer<AlertEvent> events) {
        this.store = store;
        this.migrationId = migrationId;
        this.rules = alerting.rules();
        this.log = store.alerts();
        this.events = events;
        if (!rules.isEmpty()) {
            for (AlertLog.Alert a : log.list(migrationId, true)) {
                open.put(a.name(), a.id());
            }
        }
        for (Alerting.Rule r : rules) {
            AtomicInteger g = GAUGES.computeIfAbsent(migrationId + "\u0000" + r.name(), k ->
                    Metrics.gauge("tandem.alert.firing", Tags.of("migration", migrationId, "alert", r.name(),
                            "severity", r.severity().name().toLowerCase(Locale.ROOT)), new AtomicInteger()));
            g.set(open.containsKey(r.name()) ? 1 : 0);
            gauges.put(r.name(), g);
        }
    }

    /** @param values the figures measured now, by the names conditions use ({@link AlertCondition#METRICS}) */
    public void evaluate(Map<String, Double> values) {
        for (Alerting.Rule r : rules) {
            if (!values.keySet().containsAll(r.condition().metrics())) {
                continue;
            }
            boolean firing = r.condition().test(values);
            Long id = open.get(r.name());
            if (firing && id == null) {
                String observed = observed(r.condition(), values);
                open.put(r.name(), log.fire(migrationId, r.name(), r.severity().name().toLowerCase(Locale.ROOT),
                        r.condition().toString(), r.message(), observed));
                gauges.get(r.name()).set(1);
                events.accept(event(r, true, observed));
                notify(r, "firing", observed);
            } else if (!firing && id != null) {
                log.resolve(id);
                open.remove(r.name());
                gauges.get(r.name()).set(0);
                String observed = observed(r.condition(), values);
                events.accept(event(r, false, observed));
                notify(r, "resolved", observed);
            }
        }
    }

    /**
     * The watch of changed rules (a PATCH of {@code alerting} while the migration runs): an open alert of a rule that
     * is gone resolves now; one of a rule kept stays open under the new watch.
     */
    public AlertWatch replacedBy(Alerting next) {
        for (Alerting.Rule r : rules) {
            Long id = open.get(r.name());
            boolean kept = next.rules().stream().anyMatch(n -> n.name().equals(r.name()));
            if (id != null && !kept) {
                open.remove(r.name());
                log.resolve(id);
                gauges.get(r.name()).set(0);
                events.accept(event(r, false, "the rule was removed"));
                notify(r, "resolved", "the rule was removed");
            }
        }
        return new AlertWatch(store, migrationId, next, events);
    }

    /** The migration ended (completed, aborted): every open alert resolves with it. */
    public void resolveAll(String why) {
        for (Alerting.Rule r : rules) {
            Long id = open.remove(r.name());
            if (id != null) {
                log.resolve(id);
                gauges.get(r.name()).set(0);
                events.accept(event(r, false, why));
                notify(r, "resolved", why);
            }
        }
    }

    private static AlertEvent event(Alerting.Rule r, boolean firing, String observed) {
        return new AlertEvent(r.name(), r.severity().name().toLowerCase(Locale.ROOT), firing,
                r.condition().toString(), r.message(), observed);
    }

    private static String observed(AlertCondition c, Map<String, Double> values) {
        return new TreeMap<>(values).entrySet().stream().filter(e -> c.metrics().contains(e.getKey()))
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
    }

    private void notify(Alerting.Rule r, String state, String observed) {
        if (r.webhook() == null) {
            return;
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("migration_id", migrationId);
        body.put("alert", r.name());
        body.put("severity", r.severity().name().toLowerCase(Locale.ROOT));
        body.put("state", state);
        body.put("condition", r.condition().toString());
        body.put("message", r.message());
        body.put("observed", observed);
        body.put("at", Instant.now().toString());
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        }
        URI uri;
        try {
            uri = URI.create(r.webhook());
        } catch (IllegalArgumentException e) {
            LOG.warn("alert {} of {}: its webhook is not a valid URL; not notified", r.name(), migrationId);
            return; // an alert never stops the migration
        }
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, e) -> {
            if (e != null) {
                LOG.warn("alert {} of {}: webhook on {} failed: {}", r.name(), migrationId, uri.getHost(),
                        e.getClass().getSimpleName());
            } else if (resp.statusCode() / 100 != 2) {
                LOG.warn("alert {} of {}: webhook on {} answered {}", r.name(), migrationId, uri.getHost(),
                        resp.statusCode());
            }
        });
    }
}
