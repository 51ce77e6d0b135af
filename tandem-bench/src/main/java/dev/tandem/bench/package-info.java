/**
 * Benchmarks against the physical limits, measured in the same run on the same databases, run with
 * {@code ./mvnw -q -pl tandem-bench exec:exec -Dbench=...} (README "Layout"): Tandem's copy against a raw COPY pipe,
 * its change apply against native subscriptions, its verify against an in-database hash scan, the router's overhead,
 * and the cutover's write pause under load. Each prints both rates and their ratio; none is a test. Uses the whole
 * product and the testkit; nothing uses it.
 */
package dev.tandem.bench;
