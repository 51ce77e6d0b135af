package dev.tandem.core.manifest;

import java.util.Objects;

/**
 * A value that must never be printed: passwords, tokens. {@link #toString()} is redacted, so a Secret inside any
 * record, log line or error message shows as {@value #REDACTED}. Only a connector opening a connection calls
 * {@link #reveal()}.
 */
public final class Secret {
    public static final String REDACTED = "******";

    private final String value;

    private Secret(String value) {
        this.value = Objects.requireNonNull(value);
    }

    public static Secret of(String value) {
        return new Secret(value);
    }

    public String reveal() {
        return value;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    @Override
    public String toString() {
        return REDACTED;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret s && s.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }
}
