package dev.tandem.mysql;

import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.DeleteRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.EventHeaderV4Deserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.FormatDescriptionEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.NullEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.QueryEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.RotateEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.TableMapEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.UpdateRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.WriteRowsEventDataDeserializer;
import com.github.shyiko.mysql.binlog.event.deserialization.XidEventDataDeserializer;
import com.github.shyiko.mysql.binlog.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How the binlog client decodes events for a stream: dates and times as microseconds since the epoch, zero dates as
 * a {@link ZeroDate} holding their text, strings and binaries as bytes — and TIME columns decoded here, as signed
 * microseconds:
 * the client's own decoding of a TIME into microseconds reads a negative value as a large positive one
 * ({@code -01:00:00} came back as {@code 1023:00:00}), and a MySQL TIME may be negative and beyond 24 h; and dates
 * counted here in the proleptic Gregorian calendar, as MySQL counts them ({@link #unixMillis}).
 * Only the events a stream reads are decoded; the others arrive without data.
 */
final class BinlogDecoding {
    private static final long TIMEF_INT_OFS = 0x800000L;
    private static final long TIMEF_OFS = 0x800000000000L;

    private BinlogDecoding() {
    }

    /**
     * A DATE, DATETIME or TIMESTAMP cell that is a zero date, or has a zero month or day, which no calendar counts:
     * its text as MySQL prints it (a MySQL target takes it back as it is). A DATETIME's fraction is kept to the
     * millisecond only (the client hands no more of an invalid date over).
     */
    record ZeroDate(String text) implements Serializable {
        /** A TIMESTAMP's zero: it is stored as 0 seconds since the epoch, which no real TIMESTAMP is. */
        static final ZeroDate TIMESTAMP = new ZeroDate("0000-00-00 00:00:00");
    }

    static EventDeserializer deserializer() {
        Map<Long, TableMapEventData> tableMaps = new HashMap<>();
        EventDeserializer d = new EventDeserializer(new EventHeaderV4Deserializer(), new NullEventDataDeserializer(),
                new HashMap<>(), tableMaps);
        d.setEventDataDeserializer(EventType.FORMAT_DESCRIPTION, new FormatDescriptionEventDataDeserializer());
        d.setEventDataDeserializer(EventType.ROTATE, new RotateEventDataDeserializer());
        d.setEventDataDeserializer(EventType.QUERY, new QueryEventDataDeserializer());
        d.setEventDataDeserializer(EventType.TABLE_MAP, new TableMapEventDataDeserializer());
        d.setEventDataDeserializer(EventType.XID, new XidEventDataDeserializer());
        d.setEventDataDeserializer(EventType.WRITE_ROWS, new Write(tableMaps));
        d.setEventDataDeserializer(EventType.UPDATE_ROWS, new Update(tableMaps));
        d.setEventDataDeserializer(EventType.DELETE_ROWS, new Delete(tableMaps));
        d.setEventDataDeserializer(EventType.EXT_WRITE_ROWS, new Write(tableMaps).setMayContainExtraInformation(true));
        d.setEventDataDeserializer(EventType.EXT_UPDATE_ROWS, new Update(tableMaps)
                .setMayContainExtraInformation(true));
        d.setEventDataDeserializer(EventType.EXT_DELETE_ROWS, new Delete(tableMaps)
                .setMayContainExtraInformation(true));
        d.setCompatibilityMode(EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG_MICRO,
                EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY,
                EventDeserializer.CompatibilityMode.INVALID_DATE_AND_TIME_AS_MIN_VALUE);
        return d;
    }

    /**
     * A TIME2 cell (MySQL 5.6+ and MariaDB's default format) as signed microseconds: MySQL's
     * {@code my_time_packed_from_binary}, then hours (10 bits), minutes and seconds (6 bits each) of the integer
     * part.
     */
    static long timeV2(int fsp, byte[] b) {
        long packed;
        switch (fsp) {
            case 1, 2 -> {
                long intPart = bigEndian(b, 0, 3) - TIMEF_INT_OFS;
                long frac = b[3] & 0xff; // unsigned: a negative time stores its fraction reversed
                if (intPart < 0 && frac != 0) {
                    intPart++;
                    frac -= 0x100;
                }
                packed = (intPart << 24) + frac * 10_000;
            }
            case 3, 4 -> {
                long intPart = bigEndian(b, 0, 3) - TIMEF_INT_OFS;
                long frac = bigEndian(b, 3, 2);
                if (intPart < 0 && frac != 0) {
                    intPart++;
                    frac -= 0x10000;
                }
                packed = (intPart << 24) + frac * 100;
            }
            case 5, 6 -> packed = bigEndian(b, 0, 6) - TIMEF_OFS;
            default -> packed = (bigEndian(b, 0, 3) - TIMEF_INT_OFS) << 24;
        }
        boolean negative = packed < 0;
        long abs = Math.abs(packed);
        long hms = abs >> 24;
        long micros = abs % (1L << 24);
        long hours = (hms >> 12) % (1 << 10);
        long minutes = (hms >> 6) % (1 << 6);
        long seconds = hms % (1 << 6);
        long total = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000L + micros;
        return negative ? -total : total;
    }

    /**
     * A DATE or DATETIME cell's wall clock (UTC) as milliseconds since the epoch in the proleptic Gregorian calendar,
     * or {@link Long#MIN_VALUE} for a zero date or a zero month or day (the client's invalid-date value). The client
     * itself switches to {@link java.util.GregorianCalendar}'s Julian calendar before 1582-10-15, so
     * {@code 1000-01-01} was streamed as {@code 1000-01-06}: a silent divergence, found by continuous verification
     * of a MariaDB → MariaDB stream.
     *
     * @throws IllegalArgumentException for a date no calendar has (MySQL's ALLOW_INVALID_DATES, e.g. 2024-02-31),
     *                                  rather than the day the client's lenient calendar would roll it to
     */
    static long unixMillis(int year, int month, int day, int hour, int minute, int second, int millis) {
        if (month == 0 || day == 0) {
            return Long.MIN_VALUE;
        }
        try {
            return LocalDateTime.of(year, month, day, hour, minute, second).toEpochSecond(ZoneOffset.UTC) * 1000
                    + millis;
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "the binary log holds the date "
                    + "%04d-%02d-%02d, which no calendar has (MySQL's ALLOW_INVALID_DATES); correct it on the source",
                    year, month, day), e);
        }
    }

    /**
     * The date parts of what the three row deserializers decode: {@link #unixMillis}, and the zero date the client
     * hands over as its invalid-date value turned into a {@link ZeroDate} with its text (the client has no hook between
     * the parts and the value, so the parts of the last invalid date are kept here; a deserializer decodes on one
     * thread). The client reads a TIMESTAMP's zero as the epoch (1970-01-01 00:00:00 UTC): streamed, it arrived as that
     * instant on PostgreSQL, a silent change; it is a {@link ZeroDate} too. The three deserializers below repeat the
     * same one-line overrides: the client's decoding hooks are protected methods of each one's base class, with no
     * place to install them once.
     */
    private static final class Dates {
        private static final Long INVALID = Long.MIN_VALUE;
        private String lastInvalid;

        Long unixTime(int year, int month, int day, int hour, int minute, int second, int millis) {
            long t = unixMillis(year, month, day, hour, minute, second, millis);
            if (t == Long.MIN_VALUE) {
                lastInvalid = String.format(Locale.ROOT, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour,
                        minute, second) + (millis == 0 ? "" : String.format(Locale.ROOT, ".%03d", millis));
            }
            return t;
        }

        Serializable date(Serializable v) {
            return INVALID.equals(v) ? new ZeroDate(lastInvalid.substring(0, 10)) : v;
        }

        Serializable datetime(Serializable v) {
            return INVALID.equals(v) ? new ZeroDate(lastInvalid) : v;
        }

        /** Microseconds since the epoch under one second: the zero TIMESTAMP (the earliest real one is 1 s). */
        static Serializable timestamp(Serializable v) {
            return v instanceof Long micros && micros >= 0 && micros < 1_000_000L ? ZeroDate.TIMESTAMP : v;
        }
    }

    private static long bigEndian(byte[] b, int offset, int length) {
        long v = 0;
        for (int i = offset; i < offset + length; i++) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    private static int time2Length(int fsp) {
        return 3 + (fsp + 1) / 2;
    }

    private static final class Write extends WriteRowsEventDataDeserializer {
        private final Dates dates = new Dates();

        Write(Map<Long, TableMapEventData> tableMaps) {
            super(tableMaps);
        }

        @Override
        protected Long asUnixTime(int year, int month, int day, int hour, int minute, int second, int millis) {
            return dates.unixTime(year, month, day, hour, minute, second, millis);
        }

        @Override
        protected Serializable deserializeDate(ByteArrayInputStream in) throws IOException {
            return dates.date(super.deserializeDate(in));
        }

        @Override
        protected Serializable deserializeDatetime(ByteArrayInputStream in) throws IOException {
            return dates.datetime(super.deserializeDatetime(in));
        }

        @Override
        protected Serializable deserializeDatetimeV2(int meta, ByteArrayInputStream in) throws IOException {
            return dates.datetime(super.deserializeDatetimeV2(meta, in));
        }

        @Override
        protected Serializable deserializeTimestamp(ByteArrayInputStream in) throws IOException {
            return Dates.timestamp(super.deserializeTimestamp(in));
        }

        @Override
        protected Serializable deserializeTimestampV2(int meta, ByteArrayInputStream in) throws IOException {
            return Dates.timestamp(super.deserializeTimestampV2(meta, in));
        }

        @Override
        protected Serializable deserializeTimeV2(int meta, ByteArrayInputStream in) throws IOException {
            return timeV2(meta, in.read(time2Length(meta)));
        }
    }

    private static final class Update extends UpdateRowsEventDataDeserializer {
        private final Dates dates = new Dates();

        Update(Map<Long, TableMapEventData> tableMaps) {
            super(tableMaps);
        }

        @Override
        protected Long asUnixTime(int year, int month, int day, int hour, int minute, int second, int millis) {
            return dates.unixTime(year, month, day, hour, minute, second, millis);
        }

        @Override
        protected Serializable deserializeDate(ByteArrayInputStream in) throws IOException {
            return dates.date(super.deserializeDate(in));
        }

        @Override
        protected Serializable deserializeDatetime(ByteArrayInputStream in) throws IOException {
            return dates.datetime(super.deserializeDatetime(in));
        }

        @Override
        protected Serializable deserializeDatetimeV2(int meta, ByteArrayInputStream in) throws IOException {
            return dates.datetime(super.deserializeDatetimeV2(meta, in));
        }

        @Override
        protected Serializable deserializeTimestamp(ByteArrayInputStream in) throws IOException {
            return Dates.timestamp(super.deserializeTimestamp(in));
        }

        @Override
        protected Serializable deserializeTimestampV2(int meta, ByteArrayInputStream in) throws IOException {
            return Dates.timestamp(super.deserializeTimestampV2(meta, in));
        }

        @Override
        protected Serializable deserializeTimeV2(int meta, ByteArrayInputStream in) throws IOException {
            return timeV2(meta, in.read(time2Length(meta)));
        }
    }

    private static final class Delete extends DeleteRowsEventDataDeserializer {
        private final Dates dates = new Dates();

        Delete(Map<Long, TableMapEventData> tableMaps) {
            super(tableMaps);
        }

        @Override
        protected Long asUnixTime(int year, int month, int day, int hour, int minute, int second, int millis) {
            return dates.unixTime(year, month, day, hour, minute, second, millis);
        }

        @Override
        protected Serializable deserializeDate(ByteArrayInputStream in) throws IOException {
            return dates.date(super.deserializeDate(in));
        }

        @Override
        protected Serializable deserializeDatetime(ByteArrayInputStream in) throws IOException {
            return dates.datetime(super.deserializeDatetime(in));
        }

        @Override
        protected Serializable deserializeDatetimeV2(int meta, ByteArrayInputStream in) throws IOException {
            return dates.datetime(super.deserializeDatetimeV2(meta, in));
        }

        @Override
        protected Serializable deserializeTimestamp(ByteArrayInputStream in) throws IOException {
            return Dates.timestamp(super.deserializeTimestamp(in));
        }

        @Override
        protected Serializable deserializeTimestampV2(int meta, ByteArrayInputStream in) throws IOException {
            return Dates.timestamp(super.deserializeTimestampV2(meta, in));
        }

        @Override
        protected Serializable deserializeTimeV2(int meta, ByteArrayInputStream in) throws IOException {
            return timeV2(meta, in.read(time2Length(meta)));
        }
    }
}
