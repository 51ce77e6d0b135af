package dev.tandem.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.core.spi.BlockStream;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.TableRef;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Change-form values into what MySQL columns take, and LOAD DATA text read back across block boundaries. */
class MySqlInputsTest {
    private static final TableRef T = new TableRef("shop", "orders");

    private static MySqlInputs.Input input(String type) {
        return MySqlInputs.of(T, new ColumnInfo("c", type, Types.OTHER, true, null, false, false, false));
    }

    @Test
    void turnsPostgresFormsIntoMySqlValues() throws SQLException {
        assertThat(input("tinyint(1)").text("t")).isEqualTo("1");
        assertThat(input("tinyint(1)").text("f")).isEqualTo("0");
        assertThat(input("bigint unsigned").text("18446744073709551615")).isEqualTo("18446744073709551615");
        assertThat(input("bit(1)").bind("t")).isEqualTo(1L);
        assertThat(input("bit(12)").bind("101000000001")).isEqualTo(2561L);
        assertThat((byte[]) input("varbinary(8)").bind("\\x00ff5c")).containsExactly(0, 255, 92);
        assertThat(input("blob").text("\\x0a5c")).isEqualTo("0a5c");
        assertThat(input("datetime(6)").text("2024-01-31 10:00:00.5+00")).isEqualTo("2024-01-31 10:00:00.5");
        assertThat(input("timestamp(6)").text("2024-01-31 10:00:00.25+05:30"))
                .isEqualTo("2024-01-31 04:30:00.250000");
        assertThat(input("timestamp").text("2024-01-01 01:00:00-02")).isEqualTo("2024-01-01 03:00:00.000000");
        assertThat(input("date").text("0000-00-00")).as("a MySQL source's zero date stays").isEqualTo("0000-00-00");
        assertThat(input("time(6)").text("-838:59:59.999999")).isEqualTo("-838:59:59.999999");
        assertThat(input("time").text("1 day 02:03:04")).isEqualTo("26:03:04");
        assertThat(input("time").text("-2 days -01:00:00")).isEqualTo("-49:00:00");
        assertThat(input("varchar(10)").text("tab\there")).isEqualTo("tab\there");
        assertThat(input("int").bind(null)).isNull();
        assertThat(input("set('a','b c')").text("{a,\"b c\"}")).as("the text[] a SET was made as").isEqualTo("a,b c");
        assertThat(input("set('a','b')").text("{}")).isEmpty();
        assertThat(input("set('a','b')").text("a,b")).isEqualTo("a,b");
    }

    @Test
    void refusesWhatAMySqlColumnCannotHoldNamingTheColumn() {
        assertThatThrownBy(() -> input("double").text("NaN")).hasMessageContaining("shop.orders.c: the value 'NaN'");
        assertThatThrownBy(() -> input("set('a')").text("{a,NULL}")).hasMessageContaining("holds a NULL element");
        assertThatThrownBy(() -> input("float").text("-Infinity")).hasMessageContaining("no NaN or infinity");
        assertThatThrownBy(() -> input("datetime").text("infinity")).hasMessageContaining("year 1 to 9999");
        assertThatThrownBy(() -> input("date").text("0044-03-15 BC")).hasMessageContaining("year 1 to 9999");
        assertThatThrownBy(() -> input("time").text("1 day -02:00:00")).hasMessageContaining("of one sign");
        assertThatThrownBy(() -> input("time").text("1 mon")).hasMessageContaining("up to 838:59:59");
        assertThatThrownBy(() -> input("bit(3)").bind("12")).hasMessageContaining("binary digits");
    }

    @Test
    void readsLoadDataRowsSplitAnywhereAcrossBlocks() throws SQLException {
        StringBuilder text = new StringBuilder();
        MySqlValues.loadText("a\tb\nc\\d\0e\r", text);
        text.append('\t').append("\\N").append('\t');
        MySqlValues.loadText("", text);
        text.append('\n');
        MySqlValues.loadText("😀 ünï", text);
        text.append("\t2\t3\n");
        byte[] all = text.toString().getBytes(StandardCharsets.UTF_8);
        for (int split = 1; split < all.length; split++) {
            LoadDataRows rows = new LoadDataRows(blocks(Arrays.copyOfRange(all, 0, split),
                    Arrays.copyOfRange(all, split, all.length)));
            assertThat(rows.next()).containsExactly("a\tb\nc\\d\0e\r", null, "");
            assertThat(rows.next()).containsExactly("😀 ünï", "2", "3");
            assertThat(rows.next()).isNull();
            assertThat(rows.rows()).isEqualTo(2);
        }
    }

    @Test
    void streamsTheBlocksToLoadDataUnchanged() throws Exception {
        byte[] a = "1\tx\n".getBytes(StandardCharsets.UTF_8);
        byte[] b = "2\ty\n".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (LoadDataRows.Input in = new LoadDataRows.Input(blocks(a, new byte[0], b))) {
            in.transferTo(out);
            assertThat(in.read()).isEqualTo(-1);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("1\tx\n2\ty\n");
    }

    private static BlockStream blocks(byte[]... parts) {
        List<byte[]> list = new ArrayList<>(List.of(parts));
        return new BlockStream() {
            @Override
            public byte[] next() {
                return list.isEmpty() ? null : list.remove(0);
            }

            @Override
            public long rows() {
                return 0;
            }

            @Override
            public long bytes() {
                return 0;
            }

            @Override
            public void close() {
            }
        };
    }
}
