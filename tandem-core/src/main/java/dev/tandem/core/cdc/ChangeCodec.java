package dev.tandem.core.cdc;

import dev.tandem.core.spi.Change;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Writes changes to a spill file and reads them back, exactly (nulls kept apart from empty strings). */
final class ChangeCodec {
    private ChangeCodec() {
    }

    static void write(DataOutputStream out, Change c) throws IOException {
        out.writeByte(c.kind().ordinal());
        string(out, c.table());
        strings(out, c.key());
        strings(out, c.columns());
        strings(out, c.values());
        string(out, c.position());
        out.writeLong(c.committedAt() == null ? Long.MIN_VALUE : c.committedAt().getEpochSecond());
        out.writeInt(c.committedAt() == null ? 0 : c.committedAt().getNano());
        string(out, c.marker());
    }

    static Change read(DataInputStream in) throws IOException {
        Change.Kind kind = Change.Kind.values()[in.readByte()];
        String table = string(in);
        List<String> key = strings(in);
        List<String> columns = strings(in);
        List<String> values = strings(in);
        String position = string(in);
        long seconds = in.readLong();
        int nanos = in.readInt();
        String marker = string(in);
        return new Change(kind, table, key, columns, values, position,
                seconds == Long.MIN_VALUE ? null : Instant.ofEpochSecond(seconds, nanos), marker);
    }

    private static void strings(DataOutputStream out, List<String> list) throws IOException {
        out.writeInt(list.size());
        for (String s : list) {
            string(out, s);
        }
    }

    private static List<String> strings(DataInputStream in) throws IOException {
        int n = in.readInt();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(string(in));
        }
        return out;
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String string(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("spill file ends inside a change");
        }
        return new String(b, StandardCharsets.UTF_8);
    }
}
