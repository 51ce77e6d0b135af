package dev.tandem.server.cli;

import dev.tandem.core.store.ControlStore;
import dev.tandem.server.wire.ApiClient;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Mixin;

/**
 * Where a verb works: on a running {@code tandem server} ({@code --server}, {@code $TANDEM_SERVER}) when one is
 * named, else on the control store ({@code --store}). Every verb that can do both takes this one mixin and says
 * what it does in each place; the choice itself is made here, once.
 */
final class RemoteOrLocal {
    @Mixin
    StoreOption store;

    @Mixin
    Remote remote;

    /** Work done through a server's REST API. */
    @FunctionalInterface
    interface OnServer<T> {
        T run(ApiClient server) throws Exception;
    }

    /** Work done on the control store. */
    @FunctionalInterface
    interface OnStore<T> {
        T run(ControlStore store) throws Exception;
    }

    /**
     * Runs {@code onServer} when a server is named, else {@code onStore} on the store, which must exist (verbs that
     * only read or act on a migration already there).
     */
    <T> T run(Map<String, String> env, OnServer<T> onServer, OnStore<T> onStore) throws Exception {
        return run(env, onServer, onStore, false);
    }

    /**
     * As {@link #run}, for verbs that only read (status, lag, runs, chunks): the embedded store is read without this
     * process ever serving it to others ({@link StoreOption#openReader}).
     */
    <T> T runReading(Map<String, String> env, OnServer<T> onServer, OnStore<T> onStore) throws Exception {
        Optional<ApiClient> server = remote.client(env);
        if (server.isPresent()) {
            return onServer.run(server.get());
        }
        try (ControlStore cs = store.openReader(env)) {
            return onStore.run(cs);
        }
    }

    /** As {@link #run}, creating the store when it is missing (verbs that may start a migration). */
    <T> T runCreating(Map<String, String> env, OnServer<T> onServer, OnStore<T> onStore) throws Exception {
        return run(env, onServer, onStore, true);
    }

    /**
     * The server named, if one is: for verbs that read their manifest before choosing (a bad manifest is reported the
     * same way in both places).
     */
    Optional<ApiClient> server(Map<String, String> env) {
        return remote.client(env);
    }

    /** The control store, created when missing. */
    ControlStore openStore(Map<String, String> env) {
        return store.open(env);
    }

    private <T> T run(Map<String, String> env, OnServer<T> onServer, OnStore<T> onStore, boolean create)
            throws Exception {
        Optional<ApiClient> server = remote.client(env);
        if (server.isPresent()) {
            return onServer.run(server.get());
        }
        try (ControlStore cs = create ? store.open(env) : store.openExisting(env)) {
            return onStore.run(cs);
        }
    }
}
