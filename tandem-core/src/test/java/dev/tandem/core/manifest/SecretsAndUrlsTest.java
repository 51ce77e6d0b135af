package dev.tandem.core.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SecretsAndUrlsTest {

    @Test
    void redactsPasswordsInJdbcUrls() {
        assertThat(JdbcUrls.redact("jdbc:postgresql://h:5432/db?user=a&password=p%40ss&ssl=true"))
                .isEqualTo("jdbc:postgresql://h:5432/db?user=a&password=******&ssl=true");
        assertThat(JdbcUrls.redact("jdbc:mysql://root:hunter2@h:3306/db")).isEqualTo("jdbc:mysql://root:******@h:3306/db");
        assertThat(JdbcUrls.redact("jdbc:sqlserver://h;user=a;Password=x;db=y"))
                .isEqualTo("jdbc:sqlserver://h;user=a;Password=******;db=y");
        assertThat(JdbcUrls.redact("jdbc:postgresql://h/db")).isEqualTo("jdbc:postgresql://h/db");
    }

    @Test
    void knowsTheSubprotocol() {
        assertThat(JdbcUrls.subprotocol("jdbc:postgresql://h/db")).isEqualTo("postgresql");
        assertThat(JdbcUrls.subprotocol("JDBC:MariaDB://h/db")).isEqualTo("mariadb");
        assertThat(JdbcUrls.subprotocol("postgres://h/db")).isNull();
    }

    @Test
    void secretsPrintRedactedAndEndpointsScrubDriverMessages() {
        Secret s = Secret.of("hunter2");
        assertThat(s.toString()).isEqualTo("******");
        assertThat(String.valueOf(List.of(s))).doesNotContain("hunter2");
        Endpoint e = new Endpoint("jdbc:postgresql://h/db", "u", s, java.util.Map.of());
        assertThat(e.scrub("FATAL: password hunter2 rejected")).isEqualTo("FATAL: password ****** rejected");
    }

    @Test
    void suggestsTheClosestWordOrAShortenedOne() {
        List<String> known = List.of("rollback_all", "retry_then_all", "allow_partial");
        assertThat(DidYouMean.closest("rollback", known)).contains("rollback_all");
        assertThat(DidYouMean.closest("retry_then_al", known)).contains("retry_then_all");
        assertThat(DidYouMean.closest("xyz", known)).isEmpty();
        assertThat(DidYouMean.hint("zzz", known)).isEqualTo("expected one of rollback_all, retry_then_all, allow_partial");
    }
}
