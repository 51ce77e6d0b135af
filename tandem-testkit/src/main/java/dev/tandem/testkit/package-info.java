/**
 * Real databases for tests and the demo, from Maven Central: {@link dev.tandem.testkit.EmbeddedPostgres} (run as an
 * unprivileged user when the caller is root) and {@link dev.tandem.testkit.EmbeddedMariaDb}, a JUnit extension that
 * starts them ({@link dev.tandem.testkit.DatabaseExtension}), and an independent row-for-row comparison of two
 * tables ({@link dev.tandem.testkit.TableComparison}) that tests end with instead of Tandem's own checksums.
 * Depends on nothing of Tandem.
 */
package dev.tandem.testkit;
