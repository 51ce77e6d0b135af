package dev.tandem.core.types;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TypeMappingTest {
    private final TypeMapping m = TypeMapping.MYSQL_TO_POSTGRESQL;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "bigint(20)|bigint", "bigint|bigint", "bigint(20) unsigned|numeric(20,0)", "int(11)|integer",
            "int(10) unsigned|bigint", "INT UNSIGNED|bigint", "mediumint(8) unsigned|integer", "smallint(6)|smallint",
            "smallint(5) unsigned|integer", "tinyint(4)|smallint", "tinyint(1)|boolean", "bit(1)|boolean",
            "bit(12)|bit(12)", "decimal(12,2)|numeric(12,2)", "decimal(10,0) unsigned|numeric(10,0)",
            "float|real", "double|double precision", "varchar(100)|character varying(100)",
            "char(3)|character varying(3)", "longtext|text", "mediumblob|bytea", "varbinary(16)|bytea",
            "json|jsonb", "date|date", "datetime|timestamp(0) without time zone",
            "datetime(6)|timestamp(6) without time zone", "timestamp(3)|timestamp(3) with time zone",
            "time|interval", "year(4)|smallint", "enum('a','b')|text", "set('x','y')|text[]"})
    void mapsEachMySqlTypeByItsRule(String mysql, String postgres) {
        assertThat(m.map(mysql).target()).isEqualTo(postgres);
    }

    @Test
    void saysWhatIsLossyAndRefusesWhatItCannotMap() {
        assertThat(m.map("bigint(20)").note()).isEmpty();
        assertThat(m.map("tinyint(1)").note()).contains("does not fit a boolean");
        assertThat(m.map("datetime(6)").note()).contains("zero date");
        assertThat(m.map("time(6)").note()).contains("beyond 24 h");
        TypeMapping.Mapped point = m.map("point");
        assertThat(point.mapped()).isFalse();
        assertThat(point.note()).contains("spatial types are not mapped", "scope.exclude");
        TypeMapping.Mapped odd = m.map("vector(3)");
        assertThat(odd.mapped()).isFalse();
        assertThat(odd.note()).contains("no rule maps vector(3)");
    }

    @Test
    void takesAChosenTypeOnlyFromTheRulesChoicesWhateverAliasIsWritten() {
        TypeMapping.Mapped small = m.map("tinyint(1)", "int2");
        assertThat(small.target()).isEqualTo("smallint");
        assertThat(small.chosen()).isTrue();
        assertThat(small.note()).isEmpty(); // a smallint holds every tinyint(1)
        assertThat(m.map("tinyint(1)", "BOOL").target()).isEqualTo("boolean");
        assertThat(m.map("tinyint(1)", "bool").note()).contains("does not fit a boolean");
        assertThat(m.map("char(3)", "char(3)").target()).isEqualTo("character(3)");
        assertThat(m.map("char(3)", "bpchar ( 3 )").target()).isEqualTo("character(3)");
        assertThat(m.map("varchar(40)", "TEXT").target()).isEqualTo("text");
        assertThat(m.map("json", "json").target()).isEqualTo("json");
        assertThat(m.map("float", "float8").target()).isEqualTo("double precision");
        assertThat(m.map("int(11)", null).target()).isEqualTo("integer");
        TypeMapping.Mapped refused = m.map("tinyint(1)", "text");
        assertThat(refused.mapped()).isFalse();
        assertThat(refused.note()).isEqualTo("a tinyint(1) column may be made as boolean, smallint, integer, bigint, "
                + "not text (each of those reads the values as they are written)");
        assertThat(m.map("bigint(20)", "integer").mapped()).isFalse(); // narrower: values would not fit
        assertThat(m.map("point", "bytea").note()).contains("spatial types are not mapped");
    }
}
