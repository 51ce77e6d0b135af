/**
 * The REST control plane ({@code tandem server}): routes under {@code /api/v1} with seed 002's shapes, tokens and
 * roles, errors, metrics, server-sent events, and the orchestrator that runs migrations in the server. May use
 * {@code wire}; never {@code cli}.
 */
package dev.tandem.server.api;
