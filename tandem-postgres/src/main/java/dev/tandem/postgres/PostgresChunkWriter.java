package dev.tandem.postgres;

import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.spi.BlockStream;
import dev.tandem.core.spi.ChunkWriter;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Loads a chunk with {@code COPY ... FROM STDIN}. For {@code replace} straight into the table (after the range was
 * deleted); for {@code none} and {@code merge} through a temporary table and {@code INSERT ... ON CONFLICT} on the
 * key, skipping or updating rows that exist. Target triggers and foreign-key checks are off for the session
 * (session_replication_role = replica) when the user may set it.
 */
final class PostgresChunkWriter implements ChunkWriter {

    @Override
    public List<CopyFormat> formats(TableInfo source, TableInfo target) {
        boolean sameTypes = source.columns().stream().filter(c -> !c.generated()).allMatch(c -> c.binaryPortable()
                && target.column(c.name()).map(ColumnInfo::nativeType).filter(c.nativeType()::equals).isPresent());
        return sameTypes ? List.of(CopyFormat.POSTGRES_BINARY, CopyFormat.POSTGRES_TEXT)
                : List.of(CopyFormat.POSTGRES_TEXT);
    }

    @Override
    public List<String> prepare(Connection c) throws SQLException {
        PgSession.configure(c);
        List<String> warnings = new ArrayList<>();
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
            st.execute("SET session_replication_role = replica");
        } catch (SQLException e) {
            warnings.add("target triggers and foreign-key checks will fire for copied rows: " + e.getMessage()
                    + " (GRANT SET ON PARAMETER session_replication_role TO <user>, PostgreSQL 15+)");
        } finally {
            c.setAutoCommit(auto);
        }
        return warnings;
    }

    @Override
    public long deleteRange(Connection c, TableInfo target, KeyRange range) throws SQLException {
        try (Statement st = c.createStatement()) {
            return st.executeLargeUpdate("DELETE FROM " + PgSql.table(target.ref()) + PgSql.where(range));
        }
    }

    @Override
    public long load(Connection c, TableInfo target, List<String> columns, CopyFormat format, BlockStream in,
                     DataMovement.Replace mode) throws SQLException {
        String options = format == CopyFormat.POSTGRES_BINARY ? " (FORMAT binary)" : "";
        String table = PgSql.table(target.ref());
        if (mode == DataMovement.Replace.REPLACE) {
            return copy(c, "COPY " + table + " (" + PgSql.columns(columns) + ") FROM STDIN" + options, in);
        }
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE tandem_load ON COMMIT DROP AS SELECT " + PgSql.columns(columns) + " FROM "
                    + table + " WITH NO DATA");
        }
        copy(c, "COPY tandem_load FROM STDIN" + options, in);
        List<String> key = target.keyColumns().stream().map(KeyColumn::name).toList();
        String conflict;
        if (mode == DataMovement.Replace.NONE) {
            conflict = "DO NOTHING";
        } else {
            List<String> updated = columns.stream().filter(col -> !key.contains(col)).toList();
            conflict = updated.isEmpty() ? "DO NOTHING" : "DO UPDATE SET " + updated.stream()
                    .map(col -> PgIdent.quote(col) + " = EXCLUDED." + PgIdent.quote(col))
                    .collect(Collectors.joining(", "));
        }
        try (Statement st = c.createStatement()) {
            long rows = st.executeLargeUpdate("INSERT INTO " + table + " (" + PgSql.columns(columns) + ") SELECT "
                    + PgSql.columns(columns) + " FROM tandem_load ON CONFLICT (" + PgSql.columns(key) + ") " + conflict);
            st.execute("DROP TABLE tandem_load");
            return rows;
        }
    }

    private static long copy(Connection c, String sql, BlockStream in) throws SQLException {
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            byte[] block;
            while ((block = in.next()) != null) {
                copy.writeToCopy(block, 0, block.length);
            }
            return copy.endCopy();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }

}
