package dev.tandem.core.spi;

/** What a connection reached: product and version, as the server reports them. */
public record ServerInfo(String product, String version, int major, int minor) {

    @Override
    public String toString() {
        return product + " " + version;
    }
}
