package dev.tandem.server.cli;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ControlStore;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.api.Tokens;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tandem server}: the REST control plane, running the migrations it is asked to run. */
@Command(name = "server", header = "Run the REST control plane (/api/v1) that creates, runs and watches migrations.",
        mixinStandardHelpOptions = true,
        description = {
                "Serves the API of DESIGN.md under /api/v1 (seed 002's shapes), /metrics for Prometheus and "
                        + "/api/v1/events (server-sent events). Migrations started through it run inside this "
                        + "process; if it dies, the next start resumes them from the control store.",
                "",
                "Auth: bearer tokens with roles admin and read, from --tokens FILE (YAML: a list of {token, role}) "
                        + "and/or $TANDEM_ADMIN_TOKEN and $TANDEM_READ_TOKEN. With no token at all the server "
                        + "refuses to start, unless --insecure-no-auth is given: then it listens on 127.0.0.1 only."},
        footer = {"", "Examples:", "  TANDEM_ADMIN_TOKEN=$(openssl rand -hex 24) tandem server --port 8000",
                "  tandem server --tokens tokens.yaml --store jdbc:postgresql://ctl:5432/tandem"})
final class ServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (default ${DEFAULT-VALUE}; 0: any free).")
    int port;

    @Option(names = "--host", description = "Address to listen on (default 0.0.0.0; 127.0.0.1 with "
            + "--insecure-no-auth).")
    String host;

    @Option(names = "--tokens", paramLabel = "FILE", description = "YAML list of {token, role} (role admin or read).")
    Path tokensFile;

    @Option(names = "--insecure-no-auth", description = "Accept requests without a token, on loopback only.")
    boolean insecureNoAuth;

    @Mixin
    StoreOption store;

    private final Map<String, String> env;

    ServerCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Tokens tokens = Tokens.load(tokensFile, env);
        if (tokens.isEmpty() && !insecureNoAuth) {
            throw TandemException.badInput("no API token: give --tokens FILE or set TANDEM_ADMIN_TOKEN (and "
                    + "TANDEM_READ_TOKEN); for a local trial only, --insecure-no-auth listens on 127.0.0.1 without "
                    + "auth");
        }
        String bind = host != null ? host : insecureNoAuth ? "127.0.0.1" : "0.0.0.0";
        if (insecureNoAuth && !isLoopback(bind)) {
            throw TandemException.badInput("--host " + bind + ": --insecure-no-auth listens on loopback only; drop "
                    + "--host or give tokens");
        }
        CountDownLatch stop = new CountDownLatch(1);
        try (ControlStore cs = store.open(env);
             Interrupts ignored = Interrupts.install(stop::countDown);
             ApiServer server = new ApiServer(cs, env, tokens, insecureNoAuth && tokens.isEmpty())) {
            try {
                server.start(bind, port);
            } catch (RuntimeException e) {
                throw TandemException.badInput("--host " + bind + " --port " + port + ": cannot listen there ("
                        + e.getMessage() + "); pick a free port (or --port 0 for any)");
            }
            out.println("Tandem control plane on http://" + bind + ":" + server.port() + "/api/v1 (store "
                    + cs.display() + (insecureNoAuth && tokens.isEmpty() ? ", NO AUTH: loopback only" : "")
                    + "); metrics at /metrics. Ctrl-C pauses the migrations it runs and stops.");
            out.flush();
            stop.await();
            out.println("Stopping: pausing running migrations (the next start resumes them) ...");
            out.flush();
        }
        return 0;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
