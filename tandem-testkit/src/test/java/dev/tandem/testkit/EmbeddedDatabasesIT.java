package dev.tandem.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EmbeddedDatabasesIT {

    @RegisterExtension
    static final DatabaseExtension<EmbeddedPostgres> PG = DatabaseExtension.postgres();

    @RegisterExtension
    static final DatabaseExtension<EmbeddedMariaDb> MARIADB = DatabaseExtension.mariaDb();

    @Test
    void postgresStreamsCommittedChangesThroughALogicalReplicationSlot() throws SQLException {
        try (Connection c = PG.server().connect(); Statement st = c.createStatement()) {
            assertThat(single(st, "SHOW wal_level")).isEqualTo("logical");
            st.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            st.execute("CREATE PUBLICATION p FOR TABLE t");
            String slotLsn = single(st, "SELECT lsn::text FROM pg_create_logical_replication_slot('s', 'pgoutput')");
            assertThat(slotLsn).matches("[0-9A-F]+/[0-9A-F]+");
            st.execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
            String changes = single(st, "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL, "
                    + "'proto_version', '1', 'publication_names', 'p')");
            // BEGIN, RELATION, two INSERTs, COMMIT
            assertThat(Integer.parseInt(changes)).isGreaterThanOrEqualTo(4);
            st.execute("SELECT pg_drop_replication_slot('s')");
        }
    }

    @Test
    void postgresSortsTextByLanguageNotByByte() throws SQLException {
        try (Connection c = PG.server().connect(); Statement st = c.createStatement()) {
            // In the C locale 'B' (66) sorts before 'a' (97); in en-US 'a' comes first.
            assertThat(single(st, "SELECT string_agg(x, '' ORDER BY x) FROM (VALUES ('B'), ('a')) v(x)"))
                    .isEqualTo("aB");
        }
    }

    @Test
    void postgresNeverRunsAsRoot() throws Exception {
        try (Connection c = PG.server().connect(); Statement st = c.createStatement()) {
            String pid = single(st, "SELECT pg_backend_pid()");
            List<String> status = Files.readAllLines(Path.of("/proc", pid, "status"));
            String uid = status.stream().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow().split("\\s+")[1];
            assertThat(uid).isNotEqualTo("0");
            if (!OsUser.runningAsRoot()) {
                assertThat(uid).isEqualTo(String.valueOf(new com.sun.security.auth.module.UnixSystem().getUid()));
            }
        }
    }

    @Test
    void mariaDbWritesARowBasedBinlogWhosePositionAdvances() throws SQLException {
        try (Connection c = MARIADB.server().connect(); Statement st = c.createStatement()) {
            assertThat(single(st, "SELECT @@GLOBAL.log_bin")).isEqualTo("1");
            assertThat(single(st, "SELECT @@GLOBAL.binlog_format")).isEqualTo("ROW");
            assertThat(single(st, "SELECT @@GLOBAL.binlog_row_image")).isEqualTo("FULL");
            assertThat(single(st, "SELECT @@GLOBAL.server_id")).isEqualTo("1");
            long before = binlogOffset(st);
            st.execute("CREATE TABLE t (id int PRIMARY KEY, v varchar(20))");
            st.execute("INSERT INTO t VALUES (1, 'one')");
            assertThat(binlogOffset(st)).isGreaterThan(before);
        }
    }

    @Test
    void mariaDbEnforcesPrivileges() throws SQLException {
        MARIADB.server().execute("CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'");
        try (Connection c = MARIADB.server().connect("information_schema", "reader", "pw"); Statement st = c.createStatement()) {
            assertThat(single(st, "SELECT count(*) FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = "
                    + "'SUPER' AND GRANTEE = \"'reader'@'%'\"")).isEqualTo("0");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> st.executeQuery("SELECT * FROM mysql.user"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("denied");
        }
    }

    private static long binlogOffset(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
            assertThat(rs.next()).as("SHOW MASTER STATUS returns the current binlog file").isTrue();
            assertThat(rs.getString(1)).startsWith("mysql-bin.");
            return rs.getLong(2);
        }
    }

    private static String single(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
