/**
 * The {@code tandem} binary ({@link dev.tandem.server.Main}) and the log filter that keeps library noise out of an
 * operator's view. The product lives in the packages below: {@code wire} (the JSON documents CLI and REST share)
 * ← {@code api} (the REST control plane and the orchestrator) ← {@code demo} ← {@code cli} (the picocli commands).
 */
package dev.tandem.server;
