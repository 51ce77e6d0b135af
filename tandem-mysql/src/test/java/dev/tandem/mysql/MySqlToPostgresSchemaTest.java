package dev.tandem.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** MySQL / MariaDB column defaults as PostgreSQL SQL, as information_schema writes them on each server. */
class MySqlToPostgresSchemaTest {

    @Test
    void carriesLiteralsAndTheCurrentTime() {
        assertThat(MySqlToPostgresSchema.defaultValue("'none'", "character varying(20)")).contains("'none'");
        assertThat(MySqlToPostgresSchema.defaultValue("none", "character varying(20)")).as("MySQL 8 writes it bare")
                .contains("'none'");
        assertThat(MySqlToPostgresSchema.defaultValue("'it''s'", "text")).contains("'it''s'");
        assertThat(MySqlToPostgresSchema.defaultValue("42", "integer")).contains("42");
        assertThat(MySqlToPostgresSchema.defaultValue("'1.50'", "numeric(5,2)")).contains("1.50");
        assertThat(MySqlToPostgresSchema.defaultValue("'007'", "character varying(3)")).contains("'007'");
        assertThat(MySqlToPostgresSchema.defaultValue("1", "boolean")).contains("true");
        assertThat(MySqlToPostgresSchema.defaultValue("0", "boolean")).contains("false");
        assertThat(MySqlToPostgresSchema.defaultValue("''", "text[]")).as("an empty SET").contains("'{}'");
        assertThat(MySqlToPostgresSchema.defaultValue("'new,eco'", "text[]")).contains("'{new,eco}'");
        assertThat(MySqlToPostgresSchema.defaultValue("current_timestamp()", "timestamp(0) without time zone"))
                .contains("CURRENT_TIMESTAMP");
        assertThat(MySqlToPostgresSchema.defaultValue("CURRENT_TIMESTAMP(6)", "timestamp(6) with time zone"))
                .contains("CURRENT_TIMESTAMP");
    }

    @Test
    void keepsAnEnumsMembersAsACheckWithMySqlsErrorValue() {
        assertThat(MySqlToPostgresSchema.enumCheck(new dev.tandem.core.spi.ColumnInfo("size", "enum('s','it''s')",
                java.sql.Types.VARCHAR, true, null, false, false, false)))
                .isEqualTo("CHECK (\"size\" IN ('s', 'it''s', ''))");
    }

    @Test
    void leavesOutWhatPostgresWouldReadOtherwise() {
        assertThat(MySqlToPostgresSchema.defaultValue("'0000-00-00 00:00:00'", "timestamp(0) without time zone"))
                .isEqualTo(Optional.empty());
        assertThat(MySqlToPostgresSchema.defaultValue("uuid()", "character(36)")).isEmpty();
        assertThat(MySqlToPostgresSchema.defaultValue("'a\\\\b'", "text")).as("a backslash escape").isEmpty();
        assertThat(MySqlToPostgresSchema.defaultValue("5", "boolean")).isEmpty();
        assertThat(MySqlToPostgresSchema.defaultValue("current_timestamp()", "integer")).isEmpty();
    }
}
