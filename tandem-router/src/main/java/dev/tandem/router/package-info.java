/**
 * The routing {@code DataSource} applications embed during a migration: reads and writes go to the source or the
 * target by the live routing state and a request context, shadow reads compare both sides, and a write gate holds
 * new transactions during the sub-second cutover. Depends on the JDK and slf4j only.
 * <p>Not built yet: this module holds its place in the build until the router issue lands.
 */
package dev.tandem.router;
