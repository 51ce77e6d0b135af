package dev.tandem.mysql;

import static dev.tandem.core.manifest.ColumnTypes.ZeroDates.REFUSE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Binlog cells and positions decoded by Tandem: TIME2 with its sign, positions across files, enum members; a TLS
 * endpoint refused for the stream.
 */
class BinlogDecodingTest {

    /** MySQL's TIME2 packing (my_time_packed_to_binary) of a signed time, for the decoder to read back. */
    private static byte[] time2(boolean negative, int h, int m, int s, int micros, int fsp) {
        long hms = ((long) h << 12) | ((long) m << 6) | s;
        long packed = (hms << 24) + micros;
        if (negative) {
            packed = -packed;
        }
        int length = 3 + (fsp + 1) / 2;
        long stored;
        switch (fsp) {
            case 0 -> stored = (packed >> 24) + 0x800000L;
            // as MySQL stores them: the integer part shifted (rounded down), the fraction's low byte(s) as they fall
            case 1, 2 -> stored = (((packed >> 24) + 0x800000L) << 8) | ((packed % (1L << 24)) / 10_000 & 0xff);
            case 3, 4 -> stored = (((packed >> 24) + 0x800000L) << 16) | ((packed % (1L << 24)) / 100 & 0xffff);
            default -> stored = packed + 0x800000000000L;
        }
        byte[] b = new byte[length];
        for (int i = length - 1; i >= 0; i--) {
            b[i] = (byte) stored;
            stored >>= 8;
        }
        return b;
    }

    @Test
    void readsTimesWithTheirSignAndBeyondADay() {
        assertThat(BinlogDecoding.timeV2(0, time2(false, 12, 34, 56, 0, 0))).isEqualTo(45_296_000_000L);
        assertThat(BinlogDecoding.timeV2(0, time2(true, 1, 0, 0, 0, 0))).isEqualTo(-3_600_000_000L);
        assertThat(BinlogDecoding.timeV2(0, time2(false, 838, 59, 59, 0, 0))).isEqualTo(3_020_399_000_000L);
        assertThat(BinlogDecoding.timeV2(6, time2(true, 838, 59, 59, 999_999, 6))).isEqualTo(-3_020_399_999_999L);
        assertThat(BinlogDecoding.timeV2(6, time2(false, 0, 0, 1, 500_000, 6))).isEqualTo(1_500_000L);
        assertThat(BinlogDecoding.timeV2(2, time2(true, 0, 0, 1, 250_000, 2))).isEqualTo(-1_250_000L);
        assertThat(BinlogDecoding.timeV2(4, time2(true, 10, 0, 0, 123_400, 4))).isEqualTo(-36_000_123_400L);
    }

    @Test
    void ordersAndMeasuresPositionsAcrossFiles() {
        BinlogPosition a = BinlogPosition.parse("mysql-bin.000009:500");
        BinlogPosition b = BinlogPosition.parse("mysql-bin.000010:120");
        assertThat(a).isLessThan(b);
        assertThat(a.distanceTo(b)).isEqualTo(BinlogPosition.FILE_SIZE - 500 + 120);
        assertThat(b.distanceTo(a)).isZero();
        assertThat(a.distanceTo(BinlogPosition.parse("mysql-bin.000009:900"))).isEqualTo(400);
        assertThat(b.toString()).isEqualTo("mysql-bin.000010:120");
    }

    @Test
    void refusesAStreamWhereTheEndpointAsksForTls() {
        assertThat(BinlogChangeCapture.tlsAskedFor(endpoint("jdbc:mariadb://h:3306/db?sslMode=verify-full",
                Map.of()))).contains("sslMode=verify-full");
        assertThat(BinlogChangeCapture.tlsAskedFor(endpoint("jdbc:mysql://h/db", Map.of("useSsl", "TRUE"))))
                .contains("useSsl=true");
        assertThat(BinlogChangeCapture.tlsAskedFor(endpoint("jdbc:mariadb://h/db?sslMode=disable&a=b", Map.of())))
                .isEmpty();
        assertThat(BinlogChangeCapture.tlsAskedFor(endpoint("jdbc:mariadb://h/db", Map.of()))).isEmpty();
    }

    private static Endpoint endpoint(String url, Map<String, String> properties) {
        return new Endpoint(url, "u", null, properties);
    }

    @Test
    void readsEnumAndSetMembers() {
        assertThat(BinlogValues.members("enum('a','it''s','c,d')")).isEqualTo(List.of("a", "it's", "c,d"));
        assertThat(BinlogValues.members("set('x','y')")).isEqualTo(List.of("x", "y"));
    }

    /**
     * MySQL counts every date in the proleptic Gregorian calendar; the binlog client switched to the Julian one before
     * 1582-10-15, so 1000-01-01 was streamed six days late.
     */
    @Test
    void countsDatesBeforeTheGregorianReformAsMySqlDoes() {
        long day = 86_400_000L;
        assertThat(BinlogDecoding.unixMillis(1000, 1, 1, 0, 0, 0, 0))
                .isEqualTo(java.time.LocalDate.of(1000, 1, 1).toEpochDay() * day);
        assertThat(BinlogDecoding.unixMillis(1582, 10, 10, 12, 0, 1, 5))
                .isEqualTo(java.time.LocalDate.of(1582, 10, 10).toEpochDay() * day + 43_201_005L);
        assertThat(BinlogDecoding.unixMillis(2024, 2, 29, 23, 59, 59, 999))
                .isEqualTo(java.time.LocalDate.of(2024, 3, 1).toEpochDay() * day - 1);
        assertThat(BinlogDecoding.unixMillis(2024, 0, 10, 0, 0, 0, 0)).isEqualTo(Long.MIN_VALUE);
        assertThat(BinlogDecoding.unixMillis(2024, 1, 0, 0, 0, 0, 0)).isEqualTo(Long.MIN_VALUE);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BinlogDecoding.unixMillis(2024, 2, 31, 0, 0, 0, 0))
                .hasMessageContaining("2024-02-31, which no calendar has");

        dev.tandem.core.spi.ColumnInfo date = new dev.tandem.core.spi.ColumnInfo("d", "date", java.sql.Types.DATE,
                true, null, false, false, false);
        dev.tandem.core.spi.ColumnInfo datetime = new dev.tandem.core.spi.ColumnInfo("t", "datetime(6)",
                java.sql.Types.TIMESTAMP, true, null, false, false, false);
        long micros = BinlogDecoding.unixMillis(1000, 1, 9, 1, 2, 3, 456) * 1000 + 789;
        assertThat(BinlogValues.of("d", date, null, true, REFUSE, false).text(micros)).isEqualTo("1000-01-09");
        assertThat(BinlogValues.of("t", datetime, null, true, REFUSE, false).text(micros))
                .isEqualTo("1000-01-09 01:02:03.456789");
    }

    /** A zero date in the log is written as it was (a MySQL target), as NULL, or stops the stream naming the column. */
    @Test
    void writesAZeroDateByTheChosenPolicy() {
        dev.tandem.core.spi.ColumnInfo ts = new dev.tandem.core.spi.ColumnInfo("ts", "timestamp",
                java.sql.Types.TIMESTAMP, true, null, false, false, false);
        BinlogDecoding.ZeroDate zero = new BinlogDecoding.ZeroDate("2024-00-10 00:00:00");
        assertThat(BinlogValues.of("k.ts", ts, null, true, ColumnTypes.ZeroDates.KEEP, false).text(zero))
                .isEqualTo("2024-00-10 00:00:00");
        assertThat(BinlogValues.of("k.ts", ts, null, true, ColumnTypes.ZeroDates.AS_NULL, false).text(zero)).isNull();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BinlogValues.of("k.ts", ts, null, true, REFUSE, false)
                .text(BinlogDecoding.ZeroDate.TIMESTAMP)).hasMessage("k.ts was written with the zero date "
                + "'0000-00-00 00:00:00', which PostgreSQL has no value for; set it to NULL or a real date on the "
                + "source, or write schema.zero_dates: as_null to stream zero dates as NULL");
        assertThat(BinlogValues.of("k.ts", ts, null, true, REFUSE, false).text(1_000_000L))
                .isEqualTo("1970-01-01 00:00:01.000000+00");
    }
}
