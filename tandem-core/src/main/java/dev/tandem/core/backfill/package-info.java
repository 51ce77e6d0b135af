/**
 * The copy: a run's plan stored whole ({@link dev.tandem.core.backfill.RunPlanner}), chunk planning on the key, and
 * the parallel, throttled, retrying copy of a run's chunks ({@link dev.tandem.core.backfill.BackfillRunner}). May use
 * {@code plan} and below; not {@code cdc} (a stream running alongside is wired in by {@code migrate}).
 */
package dev.tandem.core.backfill;
