/**
 * Change data capture: the streams of a migration ({@link dev.tandem.core.cdc.Streams} owns their names and
 * captures), running them ({@link dev.tandem.core.cdc.ChangeStreamRunner}), the stream's sink
 * ({@link dev.tandem.core.cdc.StreamApplier}: the per-chunk rule of {@link dev.tandem.core.cdc.ChunkGates}, group
 * commit and retries), the target writes it is made of ({@link dev.tandem.core.cdc.TargetWrites}: each name says
 * whether it commits), one target transaction per source transaction
 * ({@link dev.tandem.core.cdc.SourceTransactions}), and timestamp-column polling for any JDBC source
 * ({@link dev.tandem.core.cdc.TimestampColumnCapture}). May use {@code plan} and below; not {@code backfill}.
 */
package dev.tandem.core.cdc;
