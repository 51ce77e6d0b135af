package dev.tandem.mysql;

import dev.tandem.core.manifest.Engine;

/** MySQL and MariaDB share this connector; where they differ (privilege names, status statements), this says which. */
enum Flavor {
    MYSQL(Engine.MYSQL),
    MARIADB(Engine.MARIADB);

    final String connectorName;

    Flavor(Engine engine) {
        this.connectorName = engine.wire();
    }
}
