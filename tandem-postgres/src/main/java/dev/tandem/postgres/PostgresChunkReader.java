package dev.tandem.postgres;

import dev.tandem.core.spi.BlockStream;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.postgresql.PGConnection;

/** Reads a key range with {@code COPY (SELECT ... WHERE range) TO STDOUT}, binary where the column types allow. */
final class PostgresChunkReader implements ChunkReader {

    @Override
    public List<CopyFormat> formats(TableInfo table) {
        boolean binary = table.columns().stream().filter(c -> !c.generated()).allMatch(ColumnInfo::binaryPortable);
        return binary ? List.of(CopyFormat.POSTGRES_BINARY, CopyFormat.POSTGRES_TEXT) : List.of(CopyFormat.POSTGRES_TEXT);
    }

    @Override
    public BlockStream open(Connection c, TableInfo table, List<String> columns, KeyRange range, CopyFormat format)
            throws SQLException {
        String sql = "COPY (SELECT " + PgSql.columns(columns) + " FROM " + PgSql.table(table.ref()) + PgSql.where(range)
                + ") TO STDOUT" + (format == CopyFormat.POSTGRES_BINARY ? " (FORMAT binary)" : "");
        return new PgCopyOutStream(c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql));
    }
}
