package dev.tandem.core.manifest;

import java.util.Map;
import java.util.TreeMap;

/**
 * A database Tandem connects to: the JDBC URL, the user and the password (a {@link Secret}), plus driver properties.
 * Property values whose key looks secret (password, key, token, secret) are redacted like the password.
 */
public record Endpoint(String url, String user, Secret password, Map<String, String> properties) {

    public Endpoint {
        properties = Map.copyOf(properties);
    }

    /** The redacted URL; safe to print. */
    public String displayUrl() {
        return JdbcUrls.redact(url);
    }

    /** {@code text} with every occurrence of this endpoint's password replaced, for driver messages and logs. */
    public String scrub(String text) {
        if (text == null || password == null || password.isEmpty()) {
            return text;
        }
        return text.replace(password.reveal(), Secret.REDACTED);
    }

    @Override
    public String toString() {
        Map<String, String> shown = new TreeMap<>();
        properties.forEach((k, v) -> shown.put(k, isSecretKey(k) ? Secret.REDACTED : v));
        return "Endpoint[url=" + displayUrl() + ", user=" + user + ", password=" + (password == null ? "none" : password)
                + (shown.isEmpty() ? "" : ", properties=" + shown) + "]";
    }

    /** Whether a property holds a secret; {@code sslkey} names the key's file (a path is no secret). */
    static boolean isSecretKey(String key) {
        String k = key.toLowerCase(java.util.Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("token")
                || (k.endsWith("key") && !k.equals("sslkey")) || k.equals("pwd");
    }
}
