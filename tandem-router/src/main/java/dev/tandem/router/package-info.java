/**
 * The routing {@code DataSource} applications embed during a migration: reads and writes go to the source or the
 * target by the live routing state and a request context, shadow reads compare both sides, and a write gate holds
 * new transactions during the sub-second cutover. Depends on the JDK and slf4j only.
 * <ul>
 *   <li>{@link dev.tandem.router.RoutingDataSource} — wraps the application's two pools; per transaction it picks a
 *       side, passes write transactions through the {@link dev.tandem.router.WriteGate}, runs shadow reads; its
 *       connections and statements are JDK proxies ({@code LogicalConnection}, {@code LogicalStatement}) that bind
 *       a physical connection per transaction;</li>
 *   <li>{@link dev.tandem.router.RoutingPolicy} — every strategy's decisions over a
 *       {@link dev.tandem.router.RoutingState}; why writes have one authoritative side at a time is explained
 *       there;</li>
 *   <li>{@link dev.tandem.router.RoutingClient} — follows the control plane by long poll, acknowledges each epoch
 *       (a freeze only once the write transactions in flight drained), keeps the last state when the control plane
 *       is away.</li>
 * </ul>
 */
package dev.tandem.router;
