/**
 * Switching traffic: the cutover ({@link dev.tandem.core.cutover.Cutover}), the rollback
 * ({@link dev.tandem.core.cutover.Rollback}), their recovery after a crash, the routers' acknowledgements and write
 * pause ({@link dev.tandem.core.cutover.WritePause}) and the typed report they end with
 * ({@link dev.tandem.core.cutover.CutoverReport}). May use {@code verify} and below.
 */
package dev.tandem.core.cutover;
