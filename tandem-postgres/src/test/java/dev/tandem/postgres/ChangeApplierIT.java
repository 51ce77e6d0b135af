package dev.tandem.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.core.manifest.ConflictResolution;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Secret;
import dev.tandem.core.spi.Change;
import dev.tandem.core.spi.ChangeApplier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import dev.tandem.testkit.DatabaseExtension;
import dev.tandem.testkit.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The apply side on its own, for both of its paths (a few changes as plain statements, many through COPY into a temp
 * table): newest_wins keeps a target row whose timestamp is newer than the change's, for whole rows and for partial
 * updates, and replaces older ones; deletes and source_wins upserts land; the applied position is recorded in the
 * caller's transaction and forgotten again.
 */
class ChangeApplierIT {
    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> PG = DatabaseExtension.postgres();

    @ParameterizedTest
    @ValueSource(ints = {4, 400})
    void newestWinsKeepsNewerTargetRowsOnBothPaths(int rows) throws Exception {
        String table = "nw_" + rows;
        PG.server().execute("CREATE TABLE " + table + " (id int PRIMARY KEY, v text, ts timestamptz)",
                "INSERT INTO " + table + " SELECT g, 'target', '2024-06-01 00:00:00+00' FROM generate_series(1, "
                        + rows + ") g");
        PostgresConnector pg = new PostgresConnector(new Endpoint(PG.server().jdbcUrl(), EmbeddedPostgres.SUPERUSER,
                Secret.of(PG.server().superuserPassword()), Map.of()));
        ChangeApplier applier = pg.changeApplier().orElseThrow();
        try (Connection c = pg.connect()) {
            c.setAutoCommit(false);
            applier.prepare(c);
            TableInfo info = pg.introspector().describe(c, new TableRef("public", table)).orElseThrow();
            ChangeApplier.ApplyTable at = new ChangeApplier.ApplyTable(info, List.of("id", "v", "ts"),
                    ConflictResolution.Strategy.NEWEST_WINS, "ts");
            List<Change> changes = new ArrayList<>();
            for (int id = 1; id <= rows; id++) {
                String ts = id % 2 == 0 ? "2024-07-01 00:00:00+00" : "2024-05-01 00:00:00+00"; // even: newer
                changes.add(id % 4 < 2
                        ? new Change(Change.Kind.UPSERT, "public." + table, List.of(String.valueOf(id)),
                                List.of("id", "v", "ts"), List.of(String.valueOf(id), "source", ts), "0/1", null, null)
                        : new Change(Change.Kind.PARTIAL_UPDATE, "public." + table, List.of(String.valueOf(id)),
                                List.of("id", "v", "ts"), List.of(String.valueOf(id), "source it's", ts), "0/1", null,
                                null));
            }
            changes.add(new Change(Change.Kind.UPSERT, "public." + table, List.of("100000"), List.of("id", "v", "ts"),
                    java.util.Arrays.asList("100000", null, null), "0/1", null, null));
            applier.apply(c, at, changes);
            ChangeApplier.AppliedPositions positions = applier.appliedPositions().orElseThrow();
            positions.record(c, "tandem_applier_it", "0/2A");
            applier.flush(c);
            c.commit();
            assertThat(positions.applied(c, "tandem_applier_it")).isEqualTo("0/2A");

            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, v FROM " + table + " ORDER BY id")) {
                while (rs.next()) {
                    int id = rs.getInt(1);
                    String expected = id == 100000 ? null
                            : id % 2 == 1 ? "target" : id % 4 < 2 ? "source" : "source it's";
                    assertThat(rs.getString(2)).as("row " + id).isEqualTo(expected);
                }
            }
            ChangeApplier.ApplyTable sourceWins = new ChangeApplier.ApplyTable(info, List.of("id", "v", "ts"),
                    ConflictResolution.Strategy.SOURCE_WINS, null);
            List<Change> deletes = new ArrayList<>();
            for (int id = 1; id <= rows; id++) {
                deletes.add(new Change(Change.Kind.DELETE, "public." + table, List.of(String.valueOf(id)), List.of(),
                        List.of(), "0/1", null, null));
            }
            applier.apply(c, sourceWins, deletes);
            applier.flush(c);
            c.commit();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            positions.forget(c, "tandem_applier_it");
            assertThat(positions.applied(c, "tandem_applier_it")).isNull();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT to_regclass('tandem_apply_position') IS NULL")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("the position table is dropped with its last row").isTrue();
            }
        }
    }
}
