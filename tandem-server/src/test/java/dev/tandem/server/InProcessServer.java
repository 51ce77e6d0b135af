package dev.tandem.server;

import dev.tandem.core.store.ControlStore;
import dev.tandem.server.api.ApiServer;
import dev.tandem.server.api.Tokens;
import java.nio.file.Path;
import java.util.Map;

/** A {@code tandem server} in the test's JVM on a random loopback port, with its own control store. */
final class InProcessServer implements AutoCloseable {
    final ControlStore store;
    final ApiServer server;
    final Api api;

    /** @param env the server's environment: tokens ({@code TANDEM_ADMIN_TOKEN}, ...) and the manifests' secrets */
    InProcessServer(Path storeDir, Map<String, String> env) {
        this(storeDir, env, 0);
    }

    /** @param port 0 for any free one */
    InProcessServer(Path storeDir, Map<String, String> env, int port) {
        this(storeDir, env, port, ApiServer.Options.DEFAULT);
    }

    /** @param options the server's limits */
    InProcessServer(Path storeDir, Map<String, String> env, int port, ApiServer.Options options) {
        this.store = ControlStore.open(storeDir.toString(), env::get);
        this.server = new ApiServer(store, env, Tokens.load(null, env), false, options).start("127.0.0.1", port);
        this.api = new Api(url());
    }

    int port() {
        return server.port();
    }

    String url() {
        return "http://127.0.0.1:" + server.port();
    }

    @Override
    public void close() {
        server.close();
        store.close();
    }
}
