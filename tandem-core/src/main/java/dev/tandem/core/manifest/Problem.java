package dev.tandem.core.manifest;

/**
 * One thing wrong with an input, told the way an operator can act on it: where ({@code path}), what was there
 * ({@code value}, already redacted, or null when nothing was), which rule it breaks and how to fix it.
 * <p>{@link #message()} reads like {@code strategy.read_percentage: 1.5 is out of range; use 0.0 to 1.0}.
 */
public record Problem(String path, String value, String rule, String fix) {

    public String message() {
        StringBuilder b = new StringBuilder();
        b.append(path.isEmpty() ? "manifest" : path).append(": ");
        if (value != null) {
            b.append(value).append(' ');
        }
        b.append(rule);
        if (fix != null && !fix.isEmpty()) {
            b.append("; ").append(fix);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return message();
    }
}
