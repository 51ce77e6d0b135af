/**
 * The {@code tandem} command line (picocli): one class per verb, {@link dev.tandem.server.cli.RemoteOrLocal} choosing
 * a server or the control store, exit codes by error class. The top of tandem-server: may use every other package.
 */
package dev.tandem.server.cli;
