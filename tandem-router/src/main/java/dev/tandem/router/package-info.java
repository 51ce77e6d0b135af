/**
 * The routing {@code DataSource} applications embed during a migration: reads and writes go to the source or the
 * target by the live routing state and a request context, shadow reads compare both sides, and a write gate holds
 * new transactions during the sub-second cutover. Depends on the JDK and slf4j only.
 * <p>Built so far: the routing decisions of every strategy ({@link dev.tandem.router.RoutingPolicy}) over the
 * control plane's routing state, which {@link dev.tandem.router.RoutingClient} follows. Not yet: the
 * {@code DataSource} itself, dual writes, shadow reads, the write gate.
 */
package dev.tandem.router;
