package dev.tandem.server;

import dev.tandem.server.cli.Cli;
import org.slf4j.bridge.SLF4JBridgeHandler;

/** The {@code tandem} binary. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        // java.util.logging (the binlog client's "Connected to ..." at INFO) into logback: stderr, warnings only
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        System.exit(Cli.run(args, System.out, System.err, System.getenv()));
    }
}
