package dev.tandem.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LsnTest {
    @Test
    void formatsAsPostgresqlPrintsAndParsesBack() {
        assertEquals("0/0", Lsn.format(0));
        assertEquals("0/16B3748", Lsn.format(0x16B3748L));
        assertEquals("16/B374D848", Lsn.format(0x16B374D848L));
        assertEquals("FFFFFFFF/FFFFFFFF", Lsn.format(-1L));
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 10_000; i++) {
            long lsn = random.nextLong() >>> random.nextInt(64);
            String expected = Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/"
                    + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
            assertEquals(expected, Lsn.format(lsn));
            assertEquals(lsn, Lsn.parse(expected));
        }
    }
}
