/**
 * The MySQL and MariaDB connector ({@link dev.tandem.mysql.MySqlConnector}; {@link dev.tandem.mysql.Flavor} says
 * which server where the two differ): introspection, preflight, binlog position, key sampling and row reading for
 * verify. Implements the SPI of {@code dev.tandem.core.spi}; nothing else of the engine.
 */
package dev.tandem.mysql;
