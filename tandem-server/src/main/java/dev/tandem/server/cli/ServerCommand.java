package dev.tandem.server.cli;

import dev.tandem.core.error.TandemException;
import dev.tandem.core.store.ControlStore;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.api.ServerTls;
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
                "Auth: bearer tokens with roles admin, read and router (what tandem-router needs: follow the "
                        + "routing state and acknowledge it), from --tokens FILE (YAML: a list of {token, role}) "
                        + "and/or $TANDEM_ADMIN_TOKEN, $TANDEM_READ_TOKEN and $TANDEM_ROUTER_TOKEN. With no token at "
                        + "all the server refuses to start, unless --insecure-no-auth is given (loopback only).",
                "",
                "It listens on 127.0.0.1 unless --host says otherwise. TLS: --tls-cert and --tls-key (PEM), or "
                        + "--tls-keystore (PKCS#12/JKS, password in $TANDEM_TLS_KEYSTORE_PASSWORD); then HTTPS "
                        + "only."},
        footer = {"", "Examples:", "  TANDEM_ADMIN_TOKEN=$(openssl rand -hex 24) tandem server --port 8000",
                "  tandem server --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --tokens tokens.yaml "
                        + "--store jdbc:postgresql://ctl:5432/tandem"})
final class ServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--port", defaultValue = "8000", description = "TCP port (default ${DEFAULT-VALUE}; 0: any free).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default "
            + "${DEFAULT-VALUE}; 0.0.0.0 for every interface, best with TLS).")
    String host;

    @Option(names = "--tokens", paramLabel = "FILE",
            description = "YAML list of {token, role} (role admin, read or router).")
    Path tokensFile;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "The server's certificate chain (PEM), with "
            + "--tls-key.")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "The server's private key (unencrypted PKCS#8 "
            + "PEM, mode 600), with --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-keystore", paramLabel = "FILE", description = "A PKCS#12 or JKS keystore with the "
            + "server's key and chain; its password in $TANDEM_TLS_KEYSTORE_PASSWORD.")
    Path tlsKeystore;

    @Option(names = "--max-routers", defaultValue = "256", paramLabel = "N", description = "Live routers a "
            + "migration may have (default ${DEFAULT-VALUE}); a cutover waits for each.")
    int maxRouters;

    @Option(names = "--max-long-polls", defaultValue = "1024", paramLabel = "N", description = "Routing long "
            + "polls one token may hold at once (default ${DEFAULT-VALUE}).")
    int maxLongPolls;

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
        String bind = host;
        if (insecureNoAuth && !isLoopback(bind)) {
            throw TandemException.badInput("--host " + bind + ": --insecure-no-auth listens on loopback only; drop "
                    + "--host or give tokens");
        }
        if (maxRouters < 1 || maxLongPolls < 1) {
            throw TandemException.badInput((maxRouters < 1 ? "--max-routers " + maxRouters : "--max-long-polls "
                    + maxLongPolls) + ": must be at least 1");
        }
        ServerTls tls = tls();
        ApiServer.Options options = new ApiServer.Options(maxRouters, maxLongPolls, tls);
        CountDownLatch stop = new CountDownLatch(1);
        try (ControlStore cs = store.open(env);
             Interrupts ignored = Interrupts.install(stop::countDown);
             ApiServer server = new ApiServer(cs, env, tokens, insecureNoAuth && tokens.isEmpty(), options)) {
            try {
                server.start(bind, port);
            } catch (RuntimeException e) {
                throw TandemException.badInput("--host " + bind + " --port " + port + ": cannot listen there ("
                        + e.getMessage() + "); pick a free port (or --port 0 for any)");
            }
            out.println("Tandem control plane on " + (tls != null ? "https" : "http") + "://" + bind + ":"
                    + server.port() + "/api/v1 (store " + cs.display() + (tls != null ? ", TLS " + tls.describe()
                    : "") + (insecureNoAuth && tokens.isEmpty() ? ", NO AUTH: loopback only" : "")
                    + "); metrics at /metrics. Ctrl-C pauses the migrations it runs and stops.");
            if (tls == null && !isLoopback(bind)) {
                out.println("WARNING: plain HTTP on " + bind + ": tokens and manifests cross the network "
                        + "unencrypted; give --tls-cert and --tls-key (or --tls-keystore).");
            }
            out.flush();
            stop.await();
            out.println("Stopping: pausing running migrations (the next start resumes them) ...");
            out.flush();
        }
        return 0;
    }

    /** The TLS identity the options name, or null; both kinds at once, or half a PEM pair, is bad input. */
    private ServerTls tls() {
        if (tlsKeystore != null && (tlsCert != null || tlsKey != null)) {
            throw TandemException.badInput("--tls-keystore and --tls-cert/--tls-key: give one of the two, not both");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw TandemException.badInput((tlsCert == null ? "--tls-key" : "--tls-cert") + " without "
                    + (tlsCert == null ? "--tls-cert" : "--tls-key") + ": give the certificate and its key together");
        }
        if (tlsKeystore != null) {
            return ServerTls.keystore(tlsKeystore, env.get("TANDEM_TLS_KEYSTORE_PASSWORD"));
        }
        return tlsCert != null ? ServerTls.pem(tlsCert, tlsKey) : null;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
