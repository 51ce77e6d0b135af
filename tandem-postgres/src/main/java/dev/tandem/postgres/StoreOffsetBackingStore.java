package dev.tandem.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tandem.core.spi.ChangeCapture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.MemoryOffsetBackingStore;

/**
 * Debezium's offsets kept in Tandem's control store, next to the stream's confirmed position (one row of
 * tandem_positions), instead of a file or Kafka. Debezium creates this class by name, so the stream registers its
 * {@link ChangeCapture.OffsetStore} under an id passed in the engine's properties.
 * <p>Debezium writes offsets only for records the sink marked processed, that is after the target committed them;
 * the confirmed position stored with them is the LSN Debezium flushes to the slot.
 * <p>Hazard: the slot must never be confirmed past what the store holds durably, or a crash leaves a store behind
 * its slot (the source may already have discarded the changes between). The order holds because (1) {@link #save}
 * returns only once the store's write is durable, (2) the engine tells the task to confirm the slot only after that
 * flush returned, and the task does so at its next poll with the offsets of the records marked processed, and (3)
 * our handler marks records processed on the polling thread itself, so no record of a later batch can be marked
 * between the flush and that poll. {@code ChangeStreamRunner} checks the result at every start.
 */
public final class StoreOffsetBackingStore extends MemoryOffsetBackingStore {
    static final String ID = "tandem.offset.store.id";
    private static final Map<String, ChangeCapture.OffsetStore> STORES = new ConcurrentHashMap<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    private ChangeCapture.OffsetStore store;

    static void register(String id, ChangeCapture.OffsetStore store) {
        STORES.put(id, store);
    }

    static void unregister(String id) {
        STORES.remove(id);
    }

    @Override
    public void configure(WorkerConfig config) {
        super.configure(config);
        String id = config.originalsStrings().get(ID);
        store = STORES.get(id);
        if (store == null) {
            throw new IllegalStateException("no offset store registered as '" + id + "'");
        }
    }

    @Override
    public synchronized void start() {
        super.start();
        store.load().ifPresent(text -> {
            try {
                JsonNode node = JSON.readTree(text);
                node.fields().forEachRemaining(e -> data.put(
                        ByteBuffer.wrap(Base64.getDecoder().decode(e.getKey())),
                        e.getValue().isNull() ? null : ByteBuffer.wrap(Base64.getDecoder().decode(e.getValue().asText()))));
            } catch (IOException e) {
                throw new IllegalStateException("the stored stream offsets are not readable: " + e.getMessage(), e);
            }
        });
    }

    @Override
    protected void save() {
        ObjectNode out = JSON.createObjectNode();
        String confirmed = null;
        for (var e : data.entrySet()) {
            String key = Base64.getEncoder().encodeToString(array(e.getKey()));
            if (e.getValue() == null) {
                out.putNull(key);
                continue;
            }
            byte[] value = array(e.getValue());
            out.put(key, Base64.getEncoder().encodeToString(value));
            confirmed = confirmedLsn(value);
        }
        store.save(out.toString(), confirmed);
    }

    @Override
    public Set<Map<String, Object>> connectorPartitions(String connectorName) {
        return null;
    }

    /** The LSN Debezium flushes for these offsets: the last commit's, else the last completely processed one. */
    private static String confirmedLsn(byte[] value) {
        try {
            JsonNode n = JSON.readTree(new String(value, StandardCharsets.UTF_8));
            JsonNode lsn = n.hasNonNull("lsn_commit") ? n.get("lsn_commit") : n.get("lsn_proc");
            if (lsn == null || lsn.isNull()) {
                lsn = n.get("lsn");
            }
            return lsn == null || lsn.isNull() ? null : Lsn.format(lsn.asLong());
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] array(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
