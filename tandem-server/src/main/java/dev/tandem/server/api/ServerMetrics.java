package dev.tandem.server.api;

import dev.tandem.core.lifecycle.MigrationState;
import dev.tandem.core.store.ChunkStatus;
import dev.tandem.core.store.ControlStore;
import dev.tandem.core.store.LagSample;
import dev.tandem.core.store.MigrationRecord;
import dev.tandem.core.store.RunRecord;
import dev.tandem.core.store.StreamDirection;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code GET /metrics} in Prometheus format (Micrometer). The counters of the work this process does (rows copied
 * {@code tandem_backfill_rows_total}, changes applied {@code tandem_cdc_changes_applied_total}, drift detection
 * latency {@code tandem_drift_detection_seconds}) come from Micrometer's global registry, to which this registry is
 * added. The per-migration gauges are read from the control store at each scrape, so they are true whichever
 * process does the work: state, lag seconds/records/bytes, chunks by status of the newest backfill run, unrepaired
 * drift rows. API latency: {@code tandem_api_requests_seconds} by method, route and status; routing long polls
 * held now: {@code tandem_routing_long_polls}.
 */
final class ServerMetrics implements AutoCloseable {
    private final ControlStore store;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The latest values of the store-derived gauges, by gauge name and tags. */
    private final Map<String, AtomicReference<Double>> values = new ConcurrentHashMap<>();

    ServerMetrics(ControlStore store, LongPolls polls) {
        this.store = store;
        Metrics.addRegistry(registry);
        Gauge.builder("tandem.routing.long.polls", polls, LongPolls::held)
                .description("routing long polls held by this server now").register(registry);
    }

    void request(String method, String route, int status, long nanos) {
        Timer.builder("tandem.api.requests").description("REST API requests")
                .tags("method", method, "route", route == null ? "unmatched" : route, "status", String.valueOf(status))
                .register(registry).record(Duration.ofNanos(nanos));
    }

    synchronized String scrape() {
        values.values().forEach(v -> v.set(Double.NaN));
        for (MigrationRecord m : store.migrations().list()) {
            String id = m.id();
            for (MigrationState s : MigrationState.values()) {
                set("tandem.migration.state", "1 for the migration's current state", Tags.of("migration", id,
                        "state", s.wire()), s == m.status().state() ? 1 : 0);
            }
            List<LagSample> lag = store.lag().recent(id, StreamDirection.FORWARD, 1);
            if (!lag.isEmpty()) {
                LagSample l = lag.get(0);
                set("tandem.lag.seconds", "replication lag, seconds", Tags.of("migration", id), l.seconds());
                set("tandem.lag.records", "replication lag, changes not applied", Tags.of("migration", id),
                        l.records());
                set("tandem.lag.bytes", "replication lag, bytes of change log not applied", Tags.of("migration", id),
                        l.bytes());
            }
            List<RunRecord> runs = store.runs().list(id);
            runs.stream().filter(r -> r.kind() == RunRecord.Kind.BACKFILL).findFirst().ifPresent(run -> {
                Map<ChunkStatus, Long> counts = store.runs().chunkCounts(run.runId());
                for (ChunkStatus s : ChunkStatus.values()) {
                    set("tandem.backfill.chunks", "chunks of the newest backfill run by status",
                            Tags.of("migration", id, "status", s.name()), counts.getOrDefault(s, 0L));
                }
            });
            long drift = runs.stream().filter(r -> r.kind() == RunRecord.Kind.VERIFY).limit(2)
                    .flatMap(r -> store.drift().list(r.runId()).stream()).filter(d -> d.repairedAt() == null).count();
            set("tandem.drift.rows", "unrepaired rows found different by the newest verifications",
                    Tags.of("migration", id), drift);
            set("tandem.alerts.open", "alert rules firing now", Tags.of("migration", id),
                    m.status().state().isTerminal() ? 0 : store.alerts().list(id, true).size());
        }
        return registry.scrape();
    }

    private void set(String name, String help, Tags tags, double value) {
        String key = name + tags;
        AtomicReference<Double> ref = values.computeIfAbsent(key, k -> {
            AtomicReference<Double> r = new AtomicReference<>(Double.NaN);
            Gauge.builder(name, r, x -> x.get()).description(help).tags(tags).register(registry);
            return r;
        });
        ref.set(value);
    }

    @Override
    public void close() {
        Metrics.removeRegistry(registry);
        registry.close();
    }
}
