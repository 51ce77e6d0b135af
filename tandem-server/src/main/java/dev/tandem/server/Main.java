package dev.tandem.server;

import dev.tandem.server.cli.Cli;

/** The {@code tandem} binary. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(Cli.run(args, System.out, System.err, System.getenv()));
    }
}
