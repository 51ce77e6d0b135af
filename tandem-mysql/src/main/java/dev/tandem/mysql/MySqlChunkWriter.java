package dev.tandem.mysql;

import dev.tandem.core.manifest.DataMovement;
import dev.tandem.core.spi.BlockStream;
import dev.tandem.core.spi.ChunkWriter;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.stream.Collectors;

/**
 * Loads a chunk into MySQL / MariaDB from {@link CopyFormat#MYSQL_TEXT}: by {@code LOAD DATA LOCAL INFILE}, the
 * chunk streamed to the server as the source yields it, when the server allows it ({@code local_infile=ON}), else by
 * multi-row INSERTs of up to {@value #INSERT_ROWS} rows or 4 MB (measured: 0.86 x the speed of LOAD DATA,
 * {@code tandem-bench -Dbench=mariadb-mariadb}). Binary
 * strings arrive as hex and BIT values as numbers and are turned back by the statement (UNHEX, CAST).
 * <p>{@code LOAD DATA LOCAL} cannot stop the client mid-file, so the server turns what would be errors into warnings
 * (a duplicate key skips the row; a bad value is adjusted) even in strict mode: a load that left any warning, or
 * loaded fewer rows than were read, fails its chunk with the server's first warnings instead of leaving rows that
 * differ. For {@code replace: none} and {@code merge} the chunk goes into a temporary table first and then into the
 * table with {@code ON DUPLICATE KEY UPDATE} (the key's own value for {@code none}, the copied columns for
 * {@code merge}). MySQL target triggers fire for loaded rows (MySQL cannot turn them off for a session); foreign-key
 * checks are off ({@link MySqlSql#configureWriting}).
 */
final class MySqlChunkWriter implements ChunkWriter {
    static final int INSERT_ROWS = 500;
    /** A statement's values stay well under the server's max_allowed_packet (16 MB by default in MariaDB 11). */
    static final long BATCH_BYTES = 4L << 20;
    /** Whether the server on a connection accepts LOAD DATA LOCAL (asked once per connection). */
    private final Map<Connection, Boolean> localInfile = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * {@link CopyFormat#MYSQL_TEXT} when every column is binary on both sides or on neither, and BIT on both or on
     * neither: those travel as hex digits and numbers, and the loader turns them back by the target column's type.
     */
    @Override
    public List<CopyFormat> formats(TableInfo source, TableInfo target) {
        for (ColumnInfo s : source.columns()) {
            if (s.generated()) {
                continue;
            }
            MySqlInputs.Kind a = MySqlInputs.Kind.of(s.nativeType());
            MySqlInputs.Kind b = target.column(s.name()).map(c -> MySqlInputs.Kind.of(c.nativeType())).orElse(a);
            if ((a == MySqlInputs.Kind.BYTES) != (b == MySqlInputs.Kind.BYTES)
                    || (a == MySqlInputs.Kind.BIT) != (b == MySqlInputs.Kind.BIT)) {
                return List.of();
            }
        }
        return List.of(CopyFormat.MYSQL_TEXT);
    }

    @Override
    public List<String> prepare(Connection c) throws SQLException {
        MySqlSql.configureWriting(c);
        boolean local;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@GLOBAL.local_infile")) {
            local = rs.next() && rs.getInt(1) == 1;
        }
        localInfile.put(c, local);
        return local ? List.of() : List.of("local_infile is OFF on the target: rows are loaded by multi-row INSERT, "
                + "several times slower than LOAD DATA LOCAL (SET GLOBAL local_infile = 1 on the target to allow it)");
    }

    @Override
    public long deleteRange(Connection c, TableInfo target, KeyRange range) throws SQLException {
        List<String> params = new ArrayList<>();
        String sql = "DELETE FROM " + MySqlSql.table(target.ref()) + MySqlSql.where(range, params);
        try (PreparedStatement ps = MySqlSql.prepare(c, sql, params)) {
            return ps.executeLargeUpdate();
        }
    }

    @Override
    public long load(Connection c, TableInfo target, List<String> columns, CopyFormat format, BlockStream in,
                     DataMovement.Replace mode) throws SQLException {
        if (format != CopyFormat.MYSQL_TEXT) {
            throw new SQLException("MySQL/MariaDB loads MySQL text only, not " + format);
        }
        List<MySqlInputs.Input> inputs = new ArrayList<>();
        for (String name : columns) {
            inputs.add(MySqlInputs.of(target.ref(), target.column(name).orElseThrow(() -> new SQLException(
                    "no column " + name + " in " + target.ref() + " on the target"))));
        }
        String table = MySqlSql.table(target.ref());
        if (!Boolean.TRUE.equals(localInfile.get(c))) {
            return insert(c, table, target, inputs, new LoadDataRows(in), mode);
        }
        if (mode == DataMovement.Replace.REPLACE) {
            long loaded = loadData(c, table, inputs, in);
            if (loaded != in.rows()) {
                throw new SQLException(target.ref() + ": " + in.rows() + " rows read but " + loaded + " loaded (the "
                        + "others' keys existed on the target already)");
            }
            return loaded;
        }
        String temp = "tandem_load_" + Integer.toHexString(Objects.hash(target.ref(), columns));
        try (Statement st = c.createStatement()) {
            st.execute("DROP TEMPORARY TABLE IF EXISTS " + temp);
            st.execute("CREATE TEMPORARY TABLE " + temp + " AS SELECT " + MySqlSql.columns(columns) + " FROM " + table
                    + " LIMIT 0");
            loadData(c, MySqlSql.quote(temp), inputs, in);
            st.executeUpdate("INSERT INTO " + table + " (" + MySqlSql.columns(columns) + ") SELECT "
                    + MySqlSql.columns(columns) + " FROM " + temp + onDuplicate(target, columns, mode));
            st.execute("DROP TEMPORARY TABLE " + temp);
        }
        return in.rows();
    }

    /** {@code LOAD DATA LOCAL INFILE} of the stream into {@code table}; returns the rows the server loaded. */
    private static long loadData(Connection c, String table, List<MySqlInputs.Input> inputs, BlockStream in)
            throws SQLException {
        List<String> fields = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            MySqlInputs.Input input = inputs.get(i);
            String col = MySqlSql.quote(input.column);
            switch (input.kind) {
                case BYTES -> {
                    fields.add("@v" + i);
                    sets.add(col + " = UNHEX(@v" + i + ")");
                }
                case BIT -> {
                    fields.add("@v" + i);
                    sets.add(col + " = CAST(@v" + i + " AS UNSIGNED)");
                }
                default -> fields.add(col);
            }
        }
        String sql = "LOAD DATA LOCAL INFILE 'tandem-chunk' INTO TABLE " + table + " CHARACTER SET utf8mb4 ("
                + String.join(", ", fields) + ")" + (sets.isEmpty() ? "" : " SET " + String.join(", ", sets));
        LoadDataRows.Input stream = new LoadDataRows.Input(in);
        long loaded;
        try (Statement st = c.createStatement()) {
            st.unwrap(org.mariadb.jdbc.Statement.class).setLocalInfileInputStream(stream);
            loaded = st.executeLargeUpdate(sql);
        } catch (SQLException e) {
            throw stream.failure() != null ? stream.failure() : e;
        }
        List<String> warnings = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW WARNINGS LIMIT 3")) {
            while (rs.next()) {
                warnings.add(rs.getString(1) + " " + rs.getInt(2) + ": " + rs.getString(3));
            }
        }
        if (!warnings.isEmpty()) {
            throw new SQLException("loading into " + table + " left warnings, so rows would differ from the source's: "
                    + String.join("; ", warnings), "22000");
        }
        return loaded;
    }

    /** Multi-row INSERTs, {@value #INSERT_ROWS} rows a statement (fewer for wide tables or large values). */
    private static long insert(Connection c, String table, TableInfo target, List<MySqlInputs.Input> inputs,
                               LoadDataRows rows, DataMovement.Replace mode) throws SQLException {
        List<String> columns = inputs.stream().map(i -> i.column).toList();
        int perStatement = Math.max(1, Math.min(INSERT_ROWS, 60_000 / Math.max(1, inputs.size())));
        String head = "INSERT INTO " + table + " (" + MySqlSql.columns(columns) + ") VALUES ";
        String tail = mode == DataMovement.Replace.REPLACE ? "" : onDuplicate(target, columns, mode);
        String one = MySqlSql.placeholders(inputs.size());
        String tuple = one.startsWith("(") ? one : "(" + one + ")";
        PreparedStatement full = null;
        long loaded = 0;
        try {
            List<List<String>> batch = new ArrayList<>(perStatement);
            long bytes = 0;
            List<String> row;
            while (true) {
                row = rows.next();
                if (row != null) {
                    if (row.size() != inputs.size()) {
                        throw new SQLException(table + ": a row of " + row.size() + " fields for " + inputs.size()
                                + " columns");
                    }
                    batch.add(row);
                    for (String f : row) {
                        bytes += f == null ? 4 : f.length();
                    }
                }
                boolean send = row == null ? !batch.isEmpty() : batch.size() == perStatement || bytes >= BATCH_BYTES;
                if (send) {
                    if (batch.size() == perStatement) {
                        if (full == null) {
                            full = c.prepareStatement(head + String.join(", ", Collections.nCopies(perStatement,
                                    tuple)) + tail);
                        }
                        loaded += send(full, inputs, batch);
                    } else {
                        try (PreparedStatement some = c.prepareStatement(head + String.join(", ",
                                Collections.nCopies(batch.size(), tuple)) + tail)) {
                            loaded += send(some, inputs, batch);
                        }
                    }
                    batch.clear();
                    bytes = 0;
                }
                if (row == null) {
                    break;
                }
            }
        } finally {
            if (full != null) {
                full.close();
            }
        }
        return mode == DataMovement.Replace.REPLACE ? loaded : rows.rows();
    }

    private static long send(PreparedStatement ps, List<MySqlInputs.Input> inputs, List<List<String>> batch)
            throws SQLException {
        int p = 1;
        for (List<String> row : batch) {
            for (int i = 0; i < inputs.size(); i++) {
                ps.setObject(p++, loadDataValue(inputs.get(i), row.get(i)));
            }
        }
        return ps.executeLargeUpdate();
    }

    /** A {@link CopyFormat#MYSQL_TEXT} field bound as its column takes it: hex as bytes, a BIT's number as a long. */
    private static Object loadDataValue(MySqlInputs.Input input, String field) {
        if (field == null) {
            return null;
        }
        return switch (input.kind) {
            case BYTES -> HexFormat.of().parseHex(field);
            case BIT -> Long.parseUnsignedLong(field);
            default -> field;
        };
    }

    /**
     * {@code none}: a row whose key exists is left as it is (the key set to itself, so no other column changes);
     * {@code merge}: its copied columns are set to the loaded ones. The target's columns are named with their table:
     * after {@code INSERT ... SELECT} from the load's temporary table, which has the same column names, a bare name is
     * ambiguous ("Column 'id' in UPDATE is ambiguous").
     */
    static String onDuplicate(TableInfo target, List<String> columns, DataMovement.Replace mode) {
        List<String> key = target.keyColumns().stream().map(KeyColumn::name).toList();
        List<String> updated = columns.stream().filter(col -> !key.contains(col)).toList();
        String table = MySqlSql.table(target.ref()) + ".";
        if (mode == DataMovement.Replace.NONE || updated.isEmpty()) {
            String k = table + MySqlSql.quote(key.get(0));
            return " ON DUPLICATE KEY UPDATE " + k + " = " + k;
        }
        return " ON DUPLICATE KEY UPDATE " + updated.stream().map(col -> table + MySqlSql.quote(col) + " = VALUES("
                + MySqlSql.quote(col) + ")").collect(Collectors.joining(", "));
    }
}
