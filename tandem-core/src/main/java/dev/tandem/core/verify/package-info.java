/**
 * Verification: {@code tandem verify} ({@link dev.tandem.core.verify.VerifyRunner}) and continuous verification
 * during catch-up ({@link dev.tandem.core.verify.ContinuousVerifier}) share one chunk comparison
 * ({@link dev.tandem.core.verify.ChunkComparison}), one lag-aware recheck ({@link dev.tandem.core.verify.RowRecheck})
 * and one drift record and repair ({@link dev.tandem.core.verify.DriftRecorder}). May use {@code cdc},
 * {@code backfill} and below.
 */
package dev.tandem.core.verify;
