package dev.tandem.mysql;

/** MySQL and MariaDB share this connector; where they differ (privilege names, status statements), this says which. */
enum Flavor {
    MYSQL("mysql"),
    MARIADB("mariadb");

    final String connectorName;

    Flavor(String connectorName) {
        this.connectorName = connectorName;
    }
}
