package dev.tandem.core.spi;

import java.util.Locale;

/** Which side of a migration an endpoint is on. */
public enum Role {
    SOURCE,
    TARGET;

    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }
}
