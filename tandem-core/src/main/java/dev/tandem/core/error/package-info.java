/**
 * Errors: the one exception type with its error code (exit code, HTTP status) and the one classification of
 * SQLSTATEs ({@link dev.tandem.core.error.SqlErrors}). The floor of tandem-core: imports nothing of it.
 */
package dev.tandem.core.error;
