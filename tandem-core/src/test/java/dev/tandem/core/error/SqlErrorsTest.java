package dev.tandem.core.error;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {

    @Test
    void classifiesPostgresStates() {
        assertThat(SqlErrors.classify(new SQLException("x", "08006"))).isEqualTo(SqlErrors.Kind.CONNECTION);
        assertThat(SqlErrors.classify(new SQLException("x", "28P01"))).isEqualTo(SqlErrors.Kind.AUTHENTICATION);
        assertThat(SqlErrors.classify(new SQLException("x", "40001"))).isEqualTo(SqlErrors.Kind.RETRY_TRANSACTION);
        assertThat(SqlErrors.classify(new SQLException("x", "40P01"))).isEqualTo(SqlErrors.Kind.RETRY_TRANSACTION);
        assertThat(SqlErrors.classify(new SQLException("x", "42501"))).isEqualTo(SqlErrors.Kind.PRIVILEGE);
        assertThat(SqlErrors.classify(new SQLException("x", "3D000"))).isEqualTo(SqlErrors.Kind.UNDEFINED_OBJECT);
        assertThat(SqlErrors.classify(new SQLException("x", "57P01"))).isEqualTo(SqlErrors.Kind.UNAVAILABLE);
        assertThat(SqlErrors.classify(new SQLException("x", "23505"))).isEqualTo(SqlErrors.Kind.CONSTRAINT);
        assertThat(SqlErrors.classify(new SQLException("x", "23503"))).isEqualTo(SqlErrors.Kind.CONSTRAINT);
        assertThat(SqlErrors.classify(new SQLException("x", "55006"))).isEqualTo(SqlErrors.Kind.OBJECT_IN_USE);
        assertThat(SqlErrors.classify(new SQLException("x", "57014"))).isEqualTo(SqlErrors.Kind.CANCELED);
        assertThat(SqlErrors.classify(new SQLException("x", "XX000"))).isEqualTo(SqlErrors.Kind.OTHER);
    }

    @Test
    void classifiesMysqlVendorCodes() {
        assertThat(SqlErrors.classify(new SQLException("x", "28000", 1045))).isEqualTo(SqlErrors.Kind.AUTHENTICATION);
        assertThat(SqlErrors.classify(new SQLException("x", "42000", 1142))).isEqualTo(SqlErrors.Kind.PRIVILEGE);
        assertThat(SqlErrors.classify(new SQLException("x", "40001", 1213))).isEqualTo(SqlErrors.Kind.RETRY_TRANSACTION);
        assertThat(SqlErrors.classify(new SQLException("x", "42S02", 1146))).isEqualTo(SqlErrors.Kind.UNDEFINED_OBJECT);
        assertThat(SqlErrors.classify(new SQLException("x", "23000", 1062))).isEqualTo(SqlErrors.Kind.CONSTRAINT);
    }

    @Test
    void looksAtChainedExceptionsAndSaysWhatIsRetryable() {
        SQLException e = new SQLException("batch failed", "XX000");
        e.setNextException(new SQLException("conn", "08003"));
        assertThat(SqlErrors.classify(e)).isEqualTo(SqlErrors.Kind.CONNECTION);
        assertThat(SqlErrors.isRetryable(e)).isTrue();
        assertThat(SqlErrors.isRetryable(new SQLException("x", "28P01"))).isFalse();
        assertThat(SqlErrors.isRetryable(new SQLException("x", "23505"))).isFalse();
        assertThat(SqlErrors.is(new RuntimeException("store", new SQLException("x", "23505")),
                SqlErrors.Kind.CONSTRAINT)).isTrue();
        assertThat(SqlErrors.is(new RuntimeException("no SQL cause"), SqlErrors.Kind.CONSTRAINT)).isFalse();
    }
}
