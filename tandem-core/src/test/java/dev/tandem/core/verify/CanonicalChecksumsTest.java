package dev.tandem.core.verify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyInfo;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.core.verify.CanonicalChecksums.Norm;
import java.sql.Types;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CanonicalChecksumsTest {

    @Test
    void aColumnPairIsNormalisedByWhatEitherSideDeclares() {
        TableInfo mysql = table("id bigint", "doc longtext", "uid char(36)", "small float", "code char(8)",
                "ratio double", "name varchar(20)");
        TableInfo pg = table("id bigint", "doc jsonb", "uid uuid", "small real", "code character(8)",
                "ratio double precision", "name text");
        assertThat(CanonicalChecksums.norms(mysql, pg, List.of("id", "doc", "uid", "small", "code", "ratio", "name")))
                .containsExactly(java.util.Map.entry("doc", Norm.JSON), java.util.Map.entry("uid", Norm.LOWER),
                        java.util.Map.entry("small", Norm.FLOAT4), java.util.Map.entry("code", Norm.TRIM_PAD));
    }

    @Test
    void aMysqlDoubleDeclaredAsFloat53IsNotRoundedToSinglePrecision() {
        TableInfo mysql = table("id bigint", "x float(53)");
        TableInfo pg = table("id bigint", "x double precision");
        assertThat(CanonicalChecksums.norms(mysql, pg, List.of("x"))).isEmpty();
    }

    /**
     * A tinyint(1), which the MySQL reader returns as its number, compares as t/f with a boolean and as the number it
     * is with a smallint chosen for it (schema.columns).
     */
    @Test
    void aTinyint1ComparesAsABooleanOnlyWithABoolean() {
        TableInfo mysql = table("id bigint", "ok tinyint(1)", "flag tinyint(1)");
        TableInfo pg = table("id bigint", "ok boolean", "flag smallint");
        assertThat(CanonicalChecksums.norms(mysql, pg, List.of("ok", "flag")))
                .containsExactly(java.util.Map.entry("ok", Norm.BOOLEAN));
    }

    /**
     * A MySQL TIME and the PostgreSQL interval it maps to print the same span differently (found by continuous
     * verification of a MariaDB → PostgreSQL stream: every row with a TIME column reported as drift).
     */
    @Test
    void aTimeAndAnIntervalHoldingTheSameSpanEncodeAlike() {
        TableInfo mysql = table("id bigint", "tm time", "tf time(6)", "at timestamp(3)", "dt datetime");
        TableInfo pg = table("id bigint", "tm interval", "tf interval", "at timestamptz", "dt timestamp");
        assertThat(CanonicalChecksums.norms(mysql, pg, List.of("tm", "tf", "at", "dt")))
                .containsExactly(java.util.Map.entry("tm", Norm.DURATION), java.util.Map.entry("tf", Norm.DURATION));
        // MySQL CAST(... AS CHAR) on the left, PostgreSQL's interval (or Java's time of day) on the right
        String[][] same = {{"838:59:59.000000", "838:59:59"}, {"-838:59:59.999999", "-838:59:59.999999"},
            {"-00:00:01.500000", "-00:00:01.5"}, {"00:00:00.000001", "00:00:00.000001"}, {"12:00:00", "12:00"},
            {"26:00:00", "1 day 02:00:00"}, {"-26:00:00", "-1 days -02:00:00"}, {"00:00:00", "00:00:00"}};
        for (String[] pair : same) {
            assertThat(CanonicalChecksums.duration(pair[0])).as(pair[0]).isEqualTo(CanonicalChecksums.duration(pair[1]));
        }
        assertThat(CanonicalChecksums.duration("-00:00:01.5")).isEqualTo("-0:00:01.500000");
        assertThat(CanonicalChecksums.duration("12:00:00")).isNotEqualTo(CanonicalChecksums.duration("12:00:01"));
        assertThat(CanonicalChecksums.duration("1 mon 2 days")).isEqualTo("1 mon 2 days");
    }

    private static TableInfo table(String... columns) {
        List<ColumnInfo> cols = Arrays.stream(columns).map(c -> {
            String[] nt = c.split(" ", 2);
            return new ColumnInfo(nt[0], nt[1], Types.OTHER, true, null, false, false, false);
        }).toList();
        return new TableInfo(new TableRef("s", "t"), cols, new KeyInfo("pk", List.of("id"), true), List.of(), -1, -1);
    }
}
