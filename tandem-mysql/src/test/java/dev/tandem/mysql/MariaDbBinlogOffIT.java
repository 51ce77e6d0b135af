package dev.tandem.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Finding;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedMariaDb;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A MariaDB source that cannot feed change data capture: binary log off, statement format, minimal images. */
class MariaDbBinlogOffIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> SOURCE = DatabaseExtension.mariaDb(EmbeddedMariaDb.builder().binlog(false)
            .setting("binlog-format", "STATEMENT").setting("binlog-row-image", "MINIMAL"));

    @Test
    void saysHowToTurnOnEachBinlogSetting() {
        EmbeddedMariaDb db = SOURCE.server();
        db.execute("CREATE TABLE t (id int PRIMARY KEY)");
        String yaml = "id: binlog-off\nsource: {url: '" + db.jdbcUrl() + "', user: root, password: ''}\n"
                + "target: {url: '" + db.jdbcUrl("mysql") + "', user: root, password: ''}\n"
                + "cdc: {method: binlog}\n";
        PlanReport r = new Planner(ConnectorRegistry.load()).plan(new ManifestReader(Map.<String, String>of()::get)
                .read(yaml, "test", ManifestReader.Purpose.RUN));
        assertThat(r.source().findings()).filteredOn(Finding::isError).filteredOn(f -> !f.check().equals("built"))
                .extracting(Finding::message).containsExactly(
                        "the binary log is off (log_bin = 0)",
                        "binlog_format must be ROW, not STATEMENT",
                        "binlog_row_image must be FULL, not MINIMAL");
        assertThat(r.source().findings()).filteredOn(f -> f.check().equals("binlog_format")).singleElement()
                .extracting(Finding::fix).isEqualTo("SET GLOBAL binlog_format = 'ROW'; and binlog_format = ROW under "
                        + "[mysqld] in my.cnf so it survives a restart; sessions already open keep the old value until "
                        + "they reconnect");
        assertThat(r.failure()).isEqualTo(ErrorCode.SOURCE);
    }
}
