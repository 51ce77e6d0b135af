/**
 * Running a migration: the thin phase loop ({@link dev.tandem.core.migrate.MigrationRunner}) that re-reads the status
 * from the store each turn and hands a run's context to one phase — schema, backfill, catch-up, after the cutover —
 * with typed events for whoever listens ({@link dev.tandem.core.migrate.MigrationListener}); admission and preflight;
 * operator actions on a migration another process runs, including the one abort procedure
 * ({@link dev.tandem.core.migrate.MigrationControl}). The top of tandem-core: may use every other package.
 */
package dev.tandem.core.migrate;
