/**
 * The connector SPI: what an engine (PostgreSQL, MySQL, MariaDB) provides — introspection, preflight, key sampling,
 * chunk reading and writing, change capture and apply, checksums — found with ServiceLoader, picked by JDBC URL and
 * priority. Optional capabilities are {@code Optional}-returning defaults. May use {@code error} and {@code manifest}.
 */
package dev.tandem.core.spi;
