/**
 * What a migration moves: each side's connector, the tables in scope ({@link dev.tandem.core.plan.ScopeResolver}),
 * the per-table jobs ({@link dev.tandem.core.plan.Tables}), and the plan report {@code tandem plan} prints. May use
 * {@code store} and below.
 */
package dev.tandem.core.plan;
