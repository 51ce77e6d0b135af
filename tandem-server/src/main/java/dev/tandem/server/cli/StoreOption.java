package dev.tandem.server.cli;

import dev.tandem.core.store.ControlStore;
import java.util.Map;
import picocli.CommandLine.Option;

/** The {@code --store} option every command that uses the control store shares. */
final class StoreOption {
    @Option(names = "--store", paramLabel = "DIR|URL",
            description = "The control store: a directory, or a jdbc:postgresql: URL (default: $TANDEM_STORE, "
                    + "else ./.tandem).")
    String store;

    /** Opens the store, creating it when missing (for commands that write). */
    ControlStore open(Map<String, String> env) {
        return ControlStore.open(ControlStore.location(store, env::get), env::get);
    }

    /**
     * Opens a store that must exist for a command that only reads it, without ever serving the embedded store to
     * other processes ({@link ControlStore#openReader}).
     */
    ControlStore openReader(Map<String, String> env) {
        return ControlStore.openReader(ControlStore.location(store, env::get), env::get);
    }

    /** Opens a store that must exist (for commands that change a migration already there). */
    ControlStore openExisting(Map<String, String> env) {
        return ControlStore.openExisting(ControlStore.location(store, env::get), env::get);
    }
}
