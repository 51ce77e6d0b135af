/**
 * The PostgreSQL connector ({@link dev.tandem.postgres.PostgresConnector}, found through
 * {@link dev.tandem.postgres.PostgresConnectorProvider}): implements the SPI of {@code dev.tandem.core.spi} and
 * asks {@code dev.tandem.core.cdc.Streams} for stream and slot names; nothing else of the engine.
 * <ul>
 *   <li>reading the catalog: {@code PostgresIntrospector}, {@code PostgresPreflight} (every check with its fix),
 *       {@code PostgresKeySampler};</li>
 *   <li>copying: {@code PostgresChunkReader} and {@code PostgresChunkWriter} (binary COPY, one target transaction
 *       a chunk), {@code PostgresSchemaCopier} with {@code PgTypeCopier} and {@code PgCatalog};</li>
 *   <li>change data capture: {@code PostgresChangeCapture} (publication, slot, fences), {@code PgChangeStream}
 *       (the Debezium engine and its offsets in the control store, {@code StoreOffsetBackingStore}),
 *       {@code PgChangeRecords} and {@code PgValueText} (records to changes), {@code PostgresChangeApplier};</li>
 *   <li>verifying: {@code PostgresChecksums}, {@code PostgresRowReader}.</li>
 * </ul>
 */
package dev.tandem.postgres;
