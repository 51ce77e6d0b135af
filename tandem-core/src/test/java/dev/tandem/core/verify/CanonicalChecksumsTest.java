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

    private static TableInfo table(String... columns) {
        List<ColumnInfo> cols = Arrays.stream(columns).map(c -> {
            String[] nt = c.split(" ", 2);
            return new ColumnInfo(nt[0], nt[1], Types.OTHER, true, null, false, false, false);
        }).toList();
        return new TableInfo(new TableRef("s", "t"), cols, new KeyInfo("pk", List.of("id"), true), List.of(), -1, -1);
    }
}
