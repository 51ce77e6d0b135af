package dev.tandem.core.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.TableInfo;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The columns of each table of a migration, on both sides, as the migration started with them or last accepted them
 * (tandem_table_shapes): what a schema change on the source is told against, across restarts.
 */
public final class TableShapes {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private final ControlStore store;

    TableShapes(ControlStore store) {
        this.store = store;
    }

    /**
     * One table's columns, by name, with their types as each database spells them (in column order).
     *
     * @param source the source's columns
     * @param target the target's columns
     */
    public record Shape(Map<String, String> source, Map<String, String> target) {
        public Shape {
            source = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(source));
            target = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(target));
        }

        public static Shape of(TableInfo source, TableInfo target) {
            return new Shape(columns(source), columns(target));
        }

        private static Map<String, String> columns(TableInfo t) {
            Map<String, String> out = new LinkedHashMap<>();
            for (ColumnInfo c : t.columns()) {
                out.put(c.name(), c.nativeType());
            }
            return out;
        }
    }

    /** The migration's recorded shapes by table (qualified, as the migration names it). */
    public Map<String, Shape> load(String migrationId) {
        return store.read("read the table shapes of " + migrationId, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT table_name, shape FROM tandem_table_shapes WHERE "
                    + "migration_id = ?")) {
                ps.setString(1, migrationId);
                Map<String, Shape> out = new HashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), read(rs.getString(2)));
                    }
                }
                return out;
            }
        });
    }

    /** Records {@code shape} as the one {@code table} is told against from now on. */
    public void save(String migrationId, String table, Shape shape) {
        String json;
        try {
            json = MAPPER.writeValueAsString(Map.of("source", shape.source(), "target", shape.target()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        store.transaction("record the shape of " + table, c -> {
            int n;
            try (PreparedStatement up = c.prepareStatement("UPDATE tandem_table_shapes SET shape = ?, recorded_at = ? "
                    + "WHERE migration_id = ? AND table_name = ?")) {
                up.setString(1, json);
                up.setObject(2, ControlStore.ts(store.now()));
                up.setString(3, migrationId);
                up.setString(4, table);
                n = up.executeUpdate();
            }
            if (n == 0) {
                try (PreparedStatement ins = c.prepareStatement("INSERT INTO tandem_table_shapes (migration_id, "
                        + "table_name, shape, recorded_at) VALUES (?, ?, ?, ?)")) {
                    ins.setString(1, migrationId);
                    ins.setString(2, table);
                    ins.setString(3, json);
                    ins.setObject(4, ControlStore.ts(store.now()));
                    ins.executeUpdate();
                }
            }
            return null;
        });
    }

    @SuppressWarnings("unchecked")
    private static Shape read(String json) {
        try {
            Map<String, Object> m = MAPPER.readValue(json, LinkedHashMap.class);
            return new Shape((Map<String, String>) m.getOrDefault("source", Map.of()),
                    (Map<String, String>) m.getOrDefault("target", Map.of()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored table shape is not JSON: " + json, e);
        }
    }
}
