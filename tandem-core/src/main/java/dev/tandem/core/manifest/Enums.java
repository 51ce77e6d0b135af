package dev.tandem.core.manifest;

import java.util.Locale;

/**
 * Manifest enums: the wire name of a constant is its name in lower case ({@code ROLLBACK_ALL} is
 * {@code rollback_all}). Constants are compared by name, never by ordinal.
 */
public final class Enums {
    private Enums() {
    }

    public static String wire(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    public static <E extends Enum<E>> E parse(Class<E> type, String text) {
        for (E e : type.getEnumConstants()) {
            if (wire(e).equals(text)) {
                return e;
            }
        }
        return null;
    }

    public static <E extends Enum<E>> java.util.List<String> wireNames(Class<E> type) {
        return java.util.Arrays.stream(type.getEnumConstants()).map(Enums::wire).toList();
    }
}
