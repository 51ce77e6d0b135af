package dev.tandem.server.wire;

import dev.tandem.core.error.TandemException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * PEM files as the JDK's key material: certificates (a chain, or the CA a client trusts) and an unencrypted PKCS#8
 * private key ({@code -----BEGIN PRIVATE KEY-----}, what {@code openssl genpkey} writes; RSA or EC). Errors name the
 * file, what was expected and how to convert, never the key's bytes.
 */
public final class Pem {
    private static final Pattern KEY = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)"
            + "-----END PRIVATE KEY-----");

    private Pem() {
    }

    /** Every certificate in {@code file}, in order (a server's chain: its own first). */
    public static List<Certificate> certificates(String what, Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            List<Certificate> out = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (out.isEmpty()) {
                throw new GeneralSecurityException("no certificate in it");
            }
            return out;
        } catch (IOException | GeneralSecurityException e) {
            throw TandemException.badInput(what + " " + file + ": not a PEM certificate file (" + e.getMessage()
                    + "); give the certificate(s) as -----BEGIN CERTIFICATE----- blocks");
        }
    }

    /** The PKCS#8 private key in {@code file}. */
    public static PrivateKey privateKey(String what, Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw TandemException.badInput(what + " " + file + ": cannot read it (" + e.getMessage() + ")");
        }
        Matcher m = KEY.matcher(text);
        if (!m.find()) {
            throw TandemException.badInput(what + " " + file + ": no -----BEGIN PRIVATE KEY----- block (an "
                    + "unencrypted PKCS#8 key is expected); convert with: openssl pkcs8 -topk8 -nocrypt -in KEY "
                    + "-out key.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // the next algorithm
            }
        }
        throw TandemException.badInput(what + " " + file + ": the key is not an RSA, EC or Ed25519 PKCS#8 key");
    }

    /** A TLS client context that trusts exactly the CA certificate(s) in {@code caFile}. */
    public static SSLContext trusting(String what, Path caFile) {
        try {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certificates(what, caFile)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw TandemException.badInput(what + " " + caFile + ": cannot trust it (" + e.getMessage() + ")");
        }
    }
}
