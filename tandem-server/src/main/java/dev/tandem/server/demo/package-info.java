/**
 * {@code tandem demo}: the shop it migrates, its workload through the router, the scenario (two runs, canary,
 * cutover, cleanup or rollback) and the operator acting through the REST API. May use {@code api} and {@code wire};
 * what it needs of the CLI comes in through {@link dev.tandem.server.demo.DemoScenario.Console}.
 */
package dev.tandem.server.demo;
