/**
 * The documents the CLI and the REST API share (one serialisation of migrations, plans, runs, lag and problems) and
 * the client of a tandem server's API. Imports neither {@code api} nor {@code cli}.
 */
package dev.tandem.server.wire;
