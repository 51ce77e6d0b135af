package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.KeyColumn;
import dev.tandem.core.spi.KeyRange;
import dev.tandem.core.spi.RowReader;
import dev.tandem.core.spi.TableInfo;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Rows as JDBC values (verify across engines). A range streams from the server {@value #FETCH} rows at a time
 * (Connector/J's streaming result set), so a chunk is never held whole.
 */
final class MySqlRowReader implements RowReader {
    private static final int FETCH = 5_000;

    private static final Pattern BITS = Pattern.compile("bit\\((\\d+)\\)");
    private static final Pattern TIME = Pattern.compile("time(\\(\\d\\))?");

    private final ColumnTypes.ZeroDates zeroDates;

    /** @param zeroDates how zero dates were written to the other side ({@code schema.zero_dates}) */
    MySqlRowReader(ColumnTypes.ZeroDates zeroDates) {
        this.zeroDates = zeroDates;
    }

    @Override
    public void rows(Connection c, TableInfo table, List<String> columns, KeyRange range, RowSink sink)
            throws SQLException {
        MySqlSql.configure(c);
        List<String> params = new ArrayList<>();
        String sql = "SELECT " + select(table, columns) + " FROM " + MySqlSql.table(table.ref())
                + MySqlSql.where(range, params);
        try (PreparedStatement ps = MySqlSql.prepare(c, sql, params)) {
            ps.setFetchSize(FETCH);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sink.accept(rs);
                }
            }
        }
    }

    /**
     * The select list, each column in the form the other engine's reader returns for the type it maps to
     * ({@code mysql-to-postgresql.tsv}), so that equal values hash equal across engines: the server prints a
     * {@code FLOAT} in 6 significant digits in the text protocol, losing the value's last digits, so it is selected
     * as a double (exact); a {@code BIT(n)} as its n binary digits (PostgreSQL's {@code bit(n)} text; the driver
     * returns its bytes otherwise); a {@code YEAR} as its number (the driver returns a date); a {@code TIME} as the
     * server's text (the driver cannot hold one that is negative or beyond 24 h); a {@code tinyint(1)} as its number
     * (the driver returns a boolean: 5 read as true; {@code CanonicalChecksums} compares it with a PostgreSQL boolean
     * as t/f, with a smallint as the number); a zero date as NULL where {@code schema.zero_dates: as_null} wrote it so.
     */
    private String select(TableInfo table, List<String> columns) {
        return columns.stream().map(c -> {
            String type = table.column(c).map(ColumnInfo::nativeType).orElse("").toLowerCase(Locale.ROOT);
            String col = MySqlSql.quote(c);
            Matcher bits = BITS.matcher(type);
            if (type.startsWith("float")) {
                return "(" + col + " + 0E0) AS " + col;
            } else if (bits.matches() && Integer.parseInt(bits.group(1)) > 1) {
                return "LPAD(BIN(" + col + "), " + bits.group(1) + ", '0') AS " + col;
            } else if (type.startsWith("year")) {
                return "(" + col + " + 0) AS " + col;
            } else if (TIME.matcher(type).matches()) {
                return "CAST(" + col + " AS CHAR) AS " + col;
            } else if (type.startsWith("tinyint(1)")) {
                return "(" + col + " + 0) AS " + col;
            } else if (zeroDates == ColumnTypes.ZeroDates.AS_NULL
                    && table.column(c).map(MySqlToPostgresSchema::dated).orElse(false)) {
                return "IF(MONTH(" + col + ") = 0 OR DAYOFMONTH(" + col + ") = 0, NULL, " + col + ") AS " + col;
            }
            return col;
        }).collect(Collectors.joining(", "));
    }

    @Override
    public void rowsByKey(Connection c, TableInfo table, List<String> columns, List<List<String>> keys, RowSink sink)
            throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        MySqlSql.configure(c);
        List<KeyColumn> key = table.keyColumns();
        List<String> params = new ArrayList<>();
        keys.forEach(params::addAll);
        String in = String.join(", ", Collections.nCopies(keys.size(), MySqlSql.placeholders(key.size())));
        String sql = "SELECT " + select(table, columns) + " FROM " + MySqlSql.table(table.ref()) + " WHERE "
                + MySqlSql.tuple(key) + " IN (" + in + ")";
        try (PreparedStatement ps = MySqlSql.prepare(c, sql, params); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                sink.accept(rs);
            }
        }
    }
}
