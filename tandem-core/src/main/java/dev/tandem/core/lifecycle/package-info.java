/**
 * The lifecycle: seed 002's states, DESIGN.md's phases, and every legal transition in one table
 * ({@link dev.tandem.core.lifecycle.Lifecycle}). May use {@code error} only.
 */
package dev.tandem.core.lifecycle;
