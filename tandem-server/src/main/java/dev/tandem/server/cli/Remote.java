package dev.tandem.server.cli;

import dev.tandem.core.error.TandemException;
import dev.tandem.server.wire.ApiClient;
import dev.tandem.server.wire.Pem;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --server URL} and {@code --token TOKEN} for the verbs that can talk to a running {@code tandem server}
 * instead of the control store (DESIGN.md CLI). The token is best given as {@code $TANDEM_TOKEN} (a command line is
 * visible to other users); the server's URL may come from {@code $TANDEM_SERVER}. A server's error answer becomes
 * the same error (and exit code) the verb gives locally.
 */
final class Remote {
    @Option(names = "--server", paramLabel = "URL",
            description = "Talk to this tandem server (e.g. http://ctl:8000) instead of the control store "
                    + "(default: $TANDEM_SERVER).")
    String server;

    @Option(names = "--server-ca", paramLabel = "PEM",
            description = "Trust this CA for an https --server (default: $TANDEM_SERVER_CA; else the JDK's CAs).")
    Path serverCa;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "Bearer token for --server (default: $TANDEM_TOKEN, which keeps it out of ps).")
    String token;

    /** A connection to the server, when one was asked for. */
    Optional<ApiClient> client(Map<String, String> env) {
        String url = server != null ? server : env.get("TANDEM_SERVER");
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        String t = token != null ? token : env.get("TANDEM_TOKEN");
        String base = url.trim().replaceAll("/+$", "");
        try {
            URI u = URI.create(base);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL with a host");
            }
        } catch (IllegalArgumentException e) {
            throw TandemException.badInput("--server " + url + ": " + e.getMessage() + "; give the server's URL, "
                    + "e.g. http://ctl:8000");
        }
        Path ca = serverCa != null ? serverCa : env.get("TANDEM_SERVER_CA") == null
                || env.get("TANDEM_SERVER_CA").isBlank() ? null : Path.of(env.get("TANDEM_SERVER_CA"));
        return Optional.of(new ApiClient(base, t, ca == null ? null : Pem.trusting("--server-ca", ca)));
    }
}
