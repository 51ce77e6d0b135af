package dev.tandem.core.manifest;

import java.util.List;
import java.util.Optional;

/**
 * One migration, as the operator described it: DESIGN.md's manifest, accepting seed 000's {@code migration:} block
 * and seed 002's JSON. Built only by {@link ManifestReader}, which has already checked every rule, so every field
 * here is valid. {@code source} and {@code target} are absent only in a draft (seed 002 creates a migration first
 * and configures it later).
 * <p>{@code apis} are seed 002's APIs by id: when any is given, traffic shifting applies only to requests whose
 * context names one of them (the router's {@code TandemContext.feature}); every other request stays on the source
 * until the cutover. {@code interlays} are seed 002's interlays by endpoint: routing layers (tandem-router instances,
 * by router id) that must be live and following the migration before a cutover may start.
 * <p>{@code types} are the choices of {@code schema:} written as a map beyond its {@code mode}: what MySQL zero dates
 * become and a column's PostgreSQL type instead of the type mapping's rule.
 */
public record Manifest(
        String id,
        String description,
        Endpoint source,
        Endpoint target,
        Scope scope,
        SchemaMode schema,
        ColumnTypes types,
        MigrationType type,
        DataMovement data,
        Cdc cdc,
        ConflictResolution conflictResolution,
        Continuous continuous,
        Strategy strategy,
        Validation validation,
        AbortThresholds abortThresholds,
        FailureHandling failureHandling,
        Alerting alerting,
        Phases phases,
        List<String> apis,
        List<String> interlays) {

    public Manifest {
        apis = List.copyOf(apis);
        interlays = List.copyOf(interlays);
    }

    public Optional<Endpoint> sourceEndpoint() {
        return Optional.ofNullable(source);
    }

    public Optional<Endpoint> targetEndpoint() {
        return Optional.ofNullable(target);
    }

    /** Whether both endpoints are configured, i.e. the migration can leave the pending state. */
    public boolean isRunnable() {
        return source != null && target != null;
    }
}
