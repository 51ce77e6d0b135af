package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Secret;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class PgTlsTest {
    private static Endpoint endpoint(String url, Map<String, String> properties) {
        return new Endpoint(url, "u", Secret.of("pw"), properties);
    }

    @Test
    void everyTlsSettingReachesTheStreamFromTheUrlAndTheProperties() {
        Properties p = new Properties();
        PgTls.toDebezium(endpoint("jdbc:postgresql://db.example:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca"
                + ".pem&ApplicationName=x", Map.of("sslcert", "/etc/client.pem", "sslkey", "/etc/client.pk8",
                "sslpassword", "s3cret", "sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory",
                "sslrootcert", "/overridden/by/the/url")), p);
        assertThat(p).containsEntry("database.sslmode", "verify-full")
                .containsEntry("database.sslrootcert", "/etc/ca.pem")
                .containsEntry("database.sslcert", "/etc/client.pem")
                .containsEntry("database.sslkey", "/etc/client.pk8")
                .containsEntry("database.sslpassword", "s3cret")
                .containsEntry("database.sslfactory", "org.postgresql.ssl.DefaultJavaSSLFactory")
                .doesNotContainKey("database.ApplicationName");
    }

    @Test
    void sslTrueMeansVerifyFullAsInPgjdbcAndNothingMeansPrefer() {
        assertThat(PgTls.of(endpoint("jdbc:postgresql://h/d", Map.of("ssl", "true")))).containsEntry("sslmode",
                "verify-full");
        assertThat(PgTls.of(endpoint("jdbc:postgresql://h/d?ssl", Map.of()))).containsEntry("sslmode", "verify-full");
        assertThat(PgTls.of(endpoint("jdbc:postgresql://h/d?ssl=true&sslmode=require", Map.of())))
                .containsEntry("sslmode", "require");
        assertThat(PgTls.of(endpoint("jdbc:postgresql://h/d", Map.of()))).containsExactly(Map.entry("sslmode",
                "prefer"));
    }
}
