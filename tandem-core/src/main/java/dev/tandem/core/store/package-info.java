/**
 * The control store: migrations, runs and chunks, stream positions, fences, routing, drift, alerts and the audit
 * log, one class per table over one {@link dev.tandem.core.store.ControlStore}; every write durable before it
 * returns. Truth lives here; the engine's memory is a cache of it. May use {@code error}, {@code manifest},
 * {@code lifecycle}.
 */
package dev.tandem.core.store;
