package dev.tandem.server.api;

import dev.tandem.core.error.TandemException;
import dev.tandem.server.wire.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The server's TLS identity: a key and its certificate chain, from a PKCS#12/JKS keystore or a PEM pair. With it the
 * server speaks HTTPS only (no plain port beside it), TLS 1.2 and 1.3 with the JDK's default cipher suites. The key
 * stays in memory; a PEM key file readable by other users is refused (as PostgreSQL refuses its own).
 */
public final class ServerTls {
    private final KeyStore keys;
    private final String password;
    private final String source;

    private ServerTls(KeyStore keys, String password, String source) {
        this.keys = keys;
        this.password = password;
        this.source = source;
    }

    /**
     * A PKCS#12 or JKS keystore holding one key entry (its type is read from the file).
     *
     * @param password the keystore's password (from {@code $TANDEM_TLS_KEYSTORE_PASSWORD}; never logged)
     */
    public static ServerTls keystore(Path file, String password) {
        char[] p = password == null ? new char[0] : password.toCharArray();
        try {
            KeyStore ks = KeyStore.getInstance(file.toFile(), p);
            if (!hasKey(ks)) {
                throw TandemException.badInput("--tls-keystore " + file + ": holds no private key entry; add the "
                        + "server's key and certificate chain (e.g. openssl pkcs12 -export -in cert.pem -inkey "
                        + "key.pem -out server.p12)");
            }
            return new ServerTls(ks, password == null ? "" : password, "keystore " + file);
        } catch (IOException e) {
            throw TandemException.badInput("--tls-keystore " + file + ": cannot open it (" + e.getMessage() + "); "
                    + "give a PKCS#12 or JKS keystore and its password in $TANDEM_TLS_KEYSTORE_PASSWORD");
        } catch (GeneralSecurityException e) {
            throw TandemException.badInput("--tls-keystore " + file + ": not a keystore the JDK reads ("
                    + e.getMessage() + "); give a PKCS#12 or JKS keystore");
        }
    }

    /** A PEM certificate chain (the server's own first) and its unencrypted PKCS#8 PEM key. */
    public static ServerTls pem(Path certFile, Path keyFile) {
        refuseOthersReadable(keyFile);
        List<Certificate> chain = Pem.certificates("--tls-cert", certFile);
        var key = Pem.privateKey("--tls-key", keyFile);
        String password = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("tandem", key, password.toCharArray(), chain.toArray(Certificate[]::new));
            return new ServerTls(ks, password, "certificate " + certFile);
        } catch (IOException | GeneralSecurityException e) {
            throw TandemException.badInput("--tls-cert " + certFile + " --tls-key " + keyFile + ": the key does not "
                    + "go with the certificate (" + e.getMessage() + ")");
        }
    }

    /** Where the identity came from, for the startup line. */
    public String describe() {
        return source;
    }

    /** The HTTPS connector Javalin listens on instead of its plain one (the caller binds it). */
    ServerConnector connector(Server server, HttpConfiguration http) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(keys);
        ssl.setKeyStorePassword(password);
        ssl.setKeyManagerPassword(password);
        ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
        HttpConfiguration https = new HttpConfiguration(http);
        // no SNI host check: clients that connect by IP address send no server name
        https.addCustomizer(new SecureRequestCustomizer(false));
        return new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                new HttpConnectionFactory(https));
    }

    private static boolean hasKey(KeyStore ks) throws GeneralSecurityException {
        for (var aliases = ks.aliases(); aliases.hasMoreElements(); ) {
            if (ks.isKeyEntry(aliases.nextElement())) {
                return true;
            }
        }
        return false;
    }

    private static void refuseOthersReadable(Path keyFile) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(keyFile);
            if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.GROUP_READ)) {
                throw TandemException.badInput("--tls-key " + keyFile + ": readable by other users; make it owner "
                        + "only: chmod 600 " + keyFile);
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        } catch (IOException e) {
            throw TandemException.badInput("--tls-key " + keyFile + ": cannot read it (" + e.getMessage() + ")");
        }
    }
}
