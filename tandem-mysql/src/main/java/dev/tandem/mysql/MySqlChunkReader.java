package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.BlockStream;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Streams a key range out of MySQL / MariaDB, as PostgreSQL text COPY for a PostgreSQL target or as
 * {@code LOAD DATA} text for a MySQL / MariaDB one ({@link CopyFormat#MYSQL_TEXT}): the rows come from the server
 * {@value #FETCH} at a time (Connector/J's streaming result set) and leave in blocks of about {@value #BLOCK} bytes,
 * so neither a chunk nor a table is ever held. Each value is written in the form PostgreSQL reads for the type the
 * column maps to ({@link MySqlValues#of}), or in the server's own ({@link MySqlValues#loadData}); the range is read in
 * one statement, InnoDB's consistent read.
 */
final class MySqlChunkReader implements ChunkReader {
    static final int FETCH = 2_000;
    static final int BLOCK = 256 * 1024;

    private final ColumnTypes types;

    /** @param types the manifest's choices for values written in PostgreSQL's form ({@link MySqlValues#of}) */
    MySqlChunkReader(ColumnTypes types) {
        this.types = types;
    }

    @Override
    public List<CopyFormat> formats(TableInfo table) {
        return List.of(CopyFormat.MYSQL_TEXT, CopyFormat.POSTGRES_TEXT);
    }

    @Override
    public BlockStream open(Connection c, TableInfo table, List<String> columns, KeyRange range, CopyFormat format)
            throws SQLException {
        if (format != CopyFormat.POSTGRES_TEXT && format != CopyFormat.MYSQL_TEXT) {
            throw new SQLException("MySQL/MariaDB rows are read in PostgreSQL or MySQL text form, not " + format);
        }
        MySqlSql.configure(c);
        List<MySqlValues.Value> values = new ArrayList<>();
        for (String name : columns) {
            ColumnInfo col = table.column(name).orElseThrow(() -> new SQLException("no column " + name + " in "
                    + table.ref()));
            values.add(format == CopyFormat.MYSQL_TEXT ? MySqlValues.loadData(table.ref(), col)
                    : MySqlValues.of(table.ref(), col, types));
        }
        List<String> params = new ArrayList<>();
        String sql = "SELECT " + values.stream().map(MySqlValues.Value::select).collect(Collectors.joining(", "))
                + " FROM " + MySqlSql.table(table.ref()) + MySqlSql.where(range, params);
        PreparedStatement ps = MySqlSql.prepare(c, sql, params);
        try {
            ps.setFetchSize(FETCH);
            return new Rows(ps, ps.executeQuery(), values);
        } catch (SQLException | RuntimeException e) {
            ps.close();
            throw e;
        }
    }

    /** The result set turned into COPY text, a block at a time, pulled by the writer. */
    private static final class Rows implements BlockStream {
        private final PreparedStatement statement;
        private final ResultSet rs;
        private final List<MySqlValues.Value> values;
        private final StringBuilder text = new StringBuilder(BLOCK + 4096);
        private long rows;
        private long bytes;
        private boolean done;

        Rows(PreparedStatement statement, ResultSet rs, List<MySqlValues.Value> values) {
            this.statement = statement;
            this.rs = rs;
            this.values = values;
        }

        @Override
        public byte[] next() throws SQLException {
            if (done) {
                return null;
            }
            text.setLength(0);
            while (text.length() < BLOCK) {
                if (!rs.next()) {
                    done = true;
                    break;
                }
                for (int i = 0; i < values.size(); i++) {
                    if (i > 0) {
                        text.append('\t');
                    }
                    values.get(i).append(rs, i + 1, text);
                }
                text.append('\n');
                rows++;
            }
            if (text.length() == 0) {
                return null;
            }
            byte[] block = text.toString().getBytes(StandardCharsets.UTF_8);
            bytes += block.length;
            return block;
        }

        @Override
        public long rows() {
            return rows;
        }

        @Override
        public long bytes() {
            return bytes;
        }

        @Override
        public void close() throws SQLException {
            try {
                if (!done) {
                    // closing a streaming result set early reads the rest of it: stop the query on the server first
                    statement.cancel();
                }
            } catch (SQLException e) {
                // the connection is gone already: nothing left to read
            } finally {
                try {
                    rs.close();
                } catch (SQLException e) {
                    // cancelled under it
                } finally {
                    statement.close();
                }
            }
        }
    }
}
