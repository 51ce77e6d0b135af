package dev.tandem.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.error.TandemException;
import java.util.List;

/** Key bounds as the control store keeps them: a JSON array of the key columns' values in text form. */
public final class KeyJson {
    private KeyJson() {
    }

    private static final ObjectMapper MAPPER = new ObjectMapper();

    public static String write(List<String> values) {
        if (values == null) {
            return null;
        }
        try {
            return MAPPER.writeValueAsString(values);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static List<String> read(String json) {
        if (json == null) {
            return null;
        }
        try {
            return MAPPER.readValue(json, new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored key bound is not a JSON array: " + json, e);
        }
    }

    /**
     * A key value given by an operator ({@code --range-min 100}, or {@code '["a", 3]'} for a composite key), as one
     * text value per key column.
     */
    public static List<String> parseOperatorValue(String text, int columns, String option) {
        String t = text.trim();
        if (t.startsWith("[")) {
            try {
                List<Object> raw = MAPPER.readValue(t, new TypeReference<List<Object>>() { });
                if (raw.size() != columns) {
                    throw TandemException.badInput(option + " " + text + " has " + raw.size() + " values; the key has "
                            + columns + " columns: give one value per key column");
                }
                return raw.stream().map(String::valueOf).toList();
            } catch (JsonProcessingException e) {
                throw TandemException.badInput(option + " " + text + " is not a JSON array; write it like "
                        + "'[\"a\", 3]' or give a single value");
            }
        }
        if (columns != 1) {
            throw TandemException.badInput(option + " " + text + " is one value, but the key has " + columns
                    + " columns; give a JSON array like '[\"a\", 3]'");
        }
        return List.of(t);
    }
}
