package dev.tandem.postgres;

import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.Finding;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * An endpoint's TLS settings as pgjdbc reads them — driver properties first, the URL's query over them — so that
 * every connection Tandem opens, the change stream's included, is made with the same ones. Debezium reads only its
 * own {@code database.ssl*} keys and defaults to {@code prefer} (no certificate check, plain-text fallback), so each
 * setting is handed to it by name, and pgjdbc's {@code ssl=true} without an {@code sslmode} becomes what pgjdbc makes
 * of it: {@code verify-full}.
 */
final class PgTls {
    /** pgjdbc's TLS settings that Debezium's PostgreSQL connector takes as {@code database.<name>}. */
    static final List<String> SETTINGS = List.of("sslmode", "sslcert", "sslkey", "sslpassword", "sslrootcert",
            "sslfactory");

    private PgTls() {
    }

    /** The endpoint's TLS settings by pgjdbc name, {@code sslmode} always present (the mode in effect). */
    static Map<String, String> of(Endpoint e) {
        Map<String, String> all = new LinkedHashMap<>(e.properties());
        String query = URI.create(e.url().substring("jdbc:".length())).getRawQuery();
        if (query != null) {
            for (String kv : query.split("&")) {
                String[] parts = kv.split("=", 2);
                all.put(URLDecoder.decode(parts[0], StandardCharsets.UTF_8), parts.length == 2
                        ? URLDecoder.decode(parts[1], StandardCharsets.UTF_8) : "");
            }
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (String k : SETTINGS) {
            String v = all.get(k);
            if (v != null && !v.isEmpty()) {
                out.put(k, v);
            }
        }
        if (!out.containsKey("sslmode")) {
            String ssl = all.get("ssl");
            // pgjdbc: ssl=true (or a bare "ssl") with no sslmode verifies the certificate and the host name
            out.put("sslmode", ssl != null && (ssl.isEmpty() || ssl.equalsIgnoreCase("true")) ? "verify-full"
                    : "prefer");
        }
        return out;
    }

    /** The settings as Debezium's connector properties ({@code database.sslmode}, ...). */
    static void toDebezium(Endpoint e, Properties p) {
        of(e).forEach((k, v) -> p.setProperty("database." + k, v));
    }

    /**
     * What the session Tandem just opened is: encrypted or not (the server's own {@code pg_stat_ssl}), and whether
     * the server's certificate and name were checked. Unverified TLS is a warning anywhere (anyone on the path can
     * pose as the server); no TLS is a warning except on a loopback address.
     */
    static Finding check(Connection c, Endpoint e, String subject) throws SQLException {
        boolean encrypted;
        String version = null;
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            encrypted = rs.next() && rs.getBoolean(1);
            if (encrypted) {
                version = rs.getString(2);
            }
        }
        Map<String, String> tls = of(e);
        String mode = tls.get("sslmode");
        String fix = "set sslmode=verify-full and sslrootcert=<the file of the CA that signed the server's "
                + "certificate> in the URL or under properties";
        boolean nonValidating = tls.getOrDefault("sslfactory", "").contains("NonValidating");
        if (encrypted && mode.equals("verify-full") && !nonValidating) {
            return Finding.ok("tls", subject, "encrypted (" + version + "), the server's certificate and name "
                    + "verified");
        }
        if (encrypted) {
            return Finding.warning("tls", subject, "encrypted (" + version + ") but " + (nonValidating
                    ? "sslfactory " + tls.get("sslfactory") + " accepts any certificate"
                    : mode.equals("verify-ca") ? "the server's name is not checked (sslmode=verify-ca)"
                    : "the server's certificate is not checked (sslmode=" + mode + ")")
                    + ": whoever sits between can pose as the database", fix);
        }
        if (loopback(e)) {
            return Finding.ok("tls", subject, "not encrypted (sslmode=" + mode + "); a loopback connection stays on "
                    + "this machine");
        }
        return Finding.warning("tls", subject, "not encrypted (sslmode=" + mode + "): data and credentials cross "
                + "the network in plain text", "turn ssl on in the server, then " + fix);
    }

    /** A loopback host by its literal name (no name lookup: a slow resolver must not stall the plan). */
    private static boolean loopback(Endpoint e) {
        String host = URI.create(e.url().substring("jdbc:".length())).getHost();
        if (host == null) {
            return true;
        }
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]") || h.equals("::1");
    }
}
