package dev.tandem.core.manifest;

import java.util.Optional;

/**
 * One migration, as the operator described it: DESIGN.md's manifest, accepting seed 000's {@code migration:} block
 * and seed 002's JSON. Built only by {@link ManifestReader}, which has already checked every rule, so every field
 * here is valid. {@code source} and {@code target} are absent only in a draft (seed 002 creates a migration first
 * and configures it later).
 */
public record Manifest(
        String id,
        String description,
        Endpoint source,
        Endpoint target,
        Scope scope,
        SchemaMode schema,
        MigrationType type,
        DataMovement data,
        Cdc cdc,
        ConflictResolution conflictResolution,
        Continuous continuous,
        Strategy strategy,
        Validation validation,
        AbortThresholds abortThresholds,
        FailureHandling failureHandling,
        Alerting alerting) {

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
