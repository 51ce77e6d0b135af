package dev.tandem.postgres;

/** PostgreSQL log sequence numbers: text {@code 16/B374D848} and the 64-bit number it stands for. */
final class Lsn {
    private Lsn() {
    }

    static long parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not an LSN: '" + text + "' (expected hex/hex such as 0/16B3748)");
        }
        return (Long.parseUnsignedLong(text.substring(0, slash), 16) << 32)
                | Long.parseUnsignedLong(text.substring(slash + 1), 16);
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** {@code hi/lo} in upper-case hex without leading zeros, as PostgreSQL prints it (called once per change). */
    static String format(long lsn) {
        char[] out = new char[17];
        int n = hex(out, 0, lsn >>> 32);
        out[n++] = '/';
        n = hex(out, n, lsn & 0xFFFFFFFFL);
        return new String(out, 0, n);
    }

    private static int hex(char[] out, int at, long v) {
        int digits = Math.max(1, (67 - Long.numberOfLeadingZeros(v)) / 4);
        for (int i = digits - 1; i >= 0; i--) {
            out[at + i] = HEX[(int) (v & 0xF)];
            v >>>= 4;
        }
        return at + digits;
    }
}
