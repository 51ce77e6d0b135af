package dev.tandem.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private certificate authority and a server certificate it signed, for TLS tests, made with the JDK's own
 * {@code keytool} (no openssl needed on a fresh machine): {@link #caPem()} is what a client trusts,
 * {@link #serverCertPem()} and {@link #serverKeyPem()} (unencrypted PKCS#8, mode 600) what a server presents. The
 * server certificate names {@code localhost} and {@code 127.0.0.1}; it is valid for 30 days.
 */
public final class TestCertificates {
    private static final String STOREPASS = "testkit-store";

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** A new CA ({@code CN=name}) and a server certificate for localhost, in {@code dir}. */
    public static TestCertificates create(Path dir, String name) {
        try {
            Files.createDirectories(dir);
            TestCertificates c = new TestCertificates(dir);
            Path ca = dir.resolve("ca.p12");
            Path server = dir.resolve("server.p12");
            keytool("-genkeypair", "-keystore", ca.toString(), "-storetype", "PKCS12", "-storepass", STOREPASS,
                    "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=" + name, "-ext",
                    "bc:c", "-ext", "KU=keyCertSign,cRLSign", "-validity", "30");
            keytool("-exportcert", "-keystore", ca.toString(), "-storepass", STOREPASS, "-alias", "ca", "-rfc",
                    "-file", c.caPem().toString());
            keytool("-genkeypair", "-keystore", server.toString(), "-storetype", "PKCS12", "-storepass", STOREPASS,
                    "-alias", "server", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=localhost",
                    "-validity", "30");
            Path csr = dir.resolve("server.csr");
            keytool("-certreq", "-keystore", server.toString(), "-storepass", STOREPASS, "-alias", "server",
                    "-file", csr.toString());
            keytool("-gencert", "-keystore", ca.toString(), "-storepass", STOREPASS, "-alias", "ca", "-infile",
                    csr.toString(), "-outfile", c.serverCertPem().toString(), "-rfc", "-validity", "30",
                    "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-ext", "KU=digitalSignature,keyEncipherment",
                    "-ext", "EKU=serverAuth");
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(server)) {
                ks.load(in, STOREPASS.toCharArray());
            }
            Key key = ks.getKey("server", STOREPASS.toCharArray());
            String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(
                    StandardCharsets.US_ASCII)).encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n";
            Files.writeString(c.serverKeyPem(), pem, StandardCharsets.US_ASCII);
            Files.setPosixFilePermissions(c.serverKeyPem(), PosixFilePermissions.fromString("rw-------"));
            return c;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot make test certificates in " + dir + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making test certificates", e);
        }
    }

    /** The CA's certificate (PEM): what a client trusts. */
    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    /** The server's certificate (PEM), signed by the CA. */
    public Path serverCertPem() {
        return dir.resolve("server.pem");
    }

    /** The server's private key (unencrypted PKCS#8 PEM, mode 600). */
    public Path serverKeyPem() {
        return dir.resolve("server.key");
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.add("-noprompt");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool " + args[0] + " failed: " + new String(out, StandardCharsets.UTF_8));
        }
    }
}
