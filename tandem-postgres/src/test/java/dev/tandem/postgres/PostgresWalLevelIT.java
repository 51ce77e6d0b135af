package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.manifest.ManifestReader;
import dev.tandem.core.migrate.Planner;
import dev.tandem.core.plan.PlanReport;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.Finding;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A source that cannot stream: wal_level=replica, and its only replication slot taken. */
class PostgresWalLevelIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> SOURCE = DatabaseExtension.postgres(EmbeddedPostgres.builder().walLevel("replica")
            .setting("max_replication_slots", "1"));

    @Test
    void saysWhatToChangeOnASourceThatCannotProduceAChangeStream() {
        EmbeddedPostgres pg = SOURCE.server();
        pg.execute("CREATE TABLE t (id int PRIMARY KEY)", "SELECT pg_create_physical_replication_slot('standby')");
        String yaml = "id: wal\nsource: {url: '" + pg.jdbcUrl() + "', user: postgres, password: ${env:PW}}\n"
                + "target: {url: '" + pg.jdbcUrl("postgres") + "', user: postgres, password: ${env:PW}}\n";
        PlanReport r = new Planner(ConnectorRegistry.load()).plan(new ManifestReader(
                Map.of("PW", pg.superuserPassword())::get).read(yaml, "test", ManifestReader.Purpose.RUN));
        assertThat(r.source().findings()).filteredOn(Finding::isError)
                .extracting(f -> f.message() + " -> " + f.fix()).containsExactly(
                        "wal_level must be 'logical', not 'replica' -> Set wal_level = logical "
                                + "(ALTER SYSTEM SET wal_level = logical;) and restart PostgreSQL",
                        "all 1 replication slots are in use -> drop an unused slot "
                                + "(SELECT pg_drop_replication_slot('name');) or raise max_replication_slots "
                                + "(ALTER SYSTEM SET max_replication_slots = 3;) and restart");
        assertThat(r.failure()).isEqualTo(ErrorCode.SOURCE);
    }
}
