package dev.tandem.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The versions of the database binaries this build ships (from the parent pom, via versions.properties). */
final class Versions {
    private Versions() {
    }

    static String get(String name) {
        try (InputStream in = Versions.class.getResourceAsStream("versions.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
