/**
 * Benchmarks against the physical limits, measured in the same run on the same databases: Tandem's copy against a
 * raw COPY pipe, its change apply against a native subscription, its verify against an in-database hash scan.
 * Each prints both rates and their ratio; none is a test.
 * <p>Not built yet: the first benchmark comes with the backfill.
 */
package dev.tandem.bench;
