package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.types.TypeMapping;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the source's rows hold that PostgreSQL cannot take as it is, read by {@code plan} (and {@code migrate}'s
 * preflight) before anything is copied, so a migration does not fail mid-copy on the first such row: zero dates
 * ({@code 0000-00-00}, or a zero month or day) and dates in year 0, which PostgreSQL has no value for; values other
 * than 0 and 1 in a {@code tinyint(1)} made as a boolean; text holding a NUL character, which PostgreSQL text cannot
 * hold. (Invalid UTF-8 cannot reach the copy: the server checks each text column's character set on write, reads
 * convert them, and a binary string maps to {@code bytea}.) Each table is read once, every counted column in one pass,
 * for at most {@link #BUDGET} (the server stops the query: MariaDB's {@code max_statement_time}, MySQL's
 * {@code MAX_EXECUTION_TIME}); a table too large for that is named as not profiled, and its chunks still fail on such
 * a value, naming the column. A value written after the plan stops the stream the same way. Under
 * {@code schema.zero_dates: as_null} zero dates are counted as what becomes NULL.
 */
final class MySqlProfile {
    /** How long one table may be read. */
    static final Duration BUDGET = Duration.ofSeconds(5);
    /** MariaDB's ER_STATEMENT_TIMEOUT, MySQL's ER_QUERY_TIMEOUT. */
    private static final Set<Integer> TIMED_OUT = Set.of(1969, 3024);
    private static final Set<String> TEXTS = Set.of("char", "varchar", "tinytext", "text", "mediumtext", "longtext");

    private MySqlProfile() {
    }

    /** What is counted of one column: the rows {@code predicate} holds for. */
    private enum Kind { ZERO_DATE, YEAR_ZERO, NOT_BOOLEAN, NUL }

    private record Count(String column, Kind kind, String predicate) {
    }

    /**
     * Counts, per column of {@code tables}, the values PostgreSQL cannot take: an error per column holding any (a
     * zero date under {@code schema.zero_dates: as_null}: a warning saying how many become NULL), then one line for
     * the tables that hold none.
     */
    static void profile(Connection c, Flavor flavor, List<TableInfo> tables, ColumnTypes types, List<Finding> out)
            throws SQLException {
        boolean asNull = types.zeroDatesOrRefuse() == ColumnTypes.ZeroDates.AS_NULL;
        long t0 = System.nanoTime();
        int columns = 0;
        int profiled = 0;
        boolean found = false;
        List<String> notProfiled = new ArrayList<>();
        for (TableInfo t : tables) {
            List<Count> counts = counts(t, types);
            if (counts.isEmpty()) {
                continue;
            }
            String table = MySqlSql.table(t.ref());
            String select = "SELECT " + counts.stream().map(k -> "SUM(" + k.predicate + ")")
                    .collect(Collectors.joining(", ")) + " FROM " + table;
            String sql = flavor == Flavor.MARIADB ? "SET STATEMENT max_statement_time = " + BUDGET.toSeconds()
                    + " FOR " + select : select.replaceFirst("^SELECT ", "SELECT /*+ MAX_EXECUTION_TIME("
                    + BUDGET.toMillis() + ") */ ");
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                for (int i = 0; i < counts.size(); i++) {
                    long n = rs.getLong(i + 1);
                    if (n > 0) {
                        Finding f = finding(t, table, counts.get(i), n, asNull);
                        found |= f.isError();
                        out.add(f);
                    }
                }
                columns += (int) counts.stream().map(Count::column).distinct().count();
                profiled++;
            } catch (SQLException e) {
                if (!TIMED_OUT.contains(e.getErrorCode())) {
                    throw e;
                }
                notProfiled.add(t.ref().qualified());
            }
        }
        if (!notProfiled.isEmpty()) {
            out.add(Finding.warning("data_profile", "source", "not profiled for values PostgreSQL cannot take (each "
                    + "took more than " + BUDGET.toSeconds() + " s to read): " + String.join(", ", notProfiled),
                    (asNull ? "a zero date is copied as NULL; " : "") + "a value PostgreSQL cannot take fails its "
                    + "chunk during the copy, naming the column; look for zero dates with SELECT COUNT(*) FROM t "
                    + "WHERE MONTH(c) = 0 OR DAYOFMONTH(c) = 0"));
        }
        if (!found && columns > 0) {
            out.add(Finding.ok("data_profile", "source", String.format(Locale.ROOT, "no zero dates, dates in year "
                    + "0, tinyint(1) values a boolean cannot hold or NUL characters in text in %d column%s of %d "
                    + "table%s (read in %.1f s)", columns, columns == 1 ? "" : "s", profiled, profiled == 1 ? "" : "s",
                    (System.nanoTime() - t0) / 1e9)));
        }
    }

    /** What is counted of {@code t}'s columns, each as a predicate true for a value PostgreSQL cannot take. */
    private static List<Count> counts(TableInfo t, ColumnTypes types) {
        List<Count> out = new ArrayList<>();
        for (ColumnInfo col : t.columns()) {
            if (col.generated()) {
                continue;
            }
            String type = col.nativeType().toLowerCase(Locale.ROOT);
            String base = type.replaceAll("[ (].*", "");
            String q = MySqlSql.quote(col.name());
            if (MySqlToPostgresSchema.dated(col)) {
                out.add(new Count(col.name(), Kind.ZERO_DATE, zero(col.name())));
                out.add(new Count(col.name(), Kind.YEAR_ZERO, "YEAR(" + q + ") = 0 AND MONTH(" + q + ") <> 0 AND "
                        + "DAYOFMONTH(" + q + ") <> 0"));
            } else if (type.equals("tinyint(1)") && "boolean".equals(TypeMapping.MYSQL_TO_POSTGRESQL.map(
                    col.nativeType(), types.column(t.ref().schema(), t.ref().name(), col.name())
                            .map(ColumnTypes.Column::type).orElse(null)).target())) {
                out.add(new Count(col.name(), Kind.NOT_BOOLEAN, q + " NOT IN (0, 1)"));
            } else if (TEXTS.contains(base)) {
                // in UTF-8 a 0 byte is NUL and nothing else, whatever the column's own character set
                out.add(new Count(col.name(), Kind.NUL, "INSTR(CAST(CONVERT(" + q + " USING utf8mb4) AS BINARY), "
                        + "0x00) > 0"));
            }
        }
        return out;
    }

    private static Finding finding(TableInfo t, String table, Count k, long n, boolean asNull) {
        String name = t.ref().qualified();
        String col = MySqlSql.quote(k.column);
        String rows = String.format(Locale.ROOT, "%,d", n);
        return switch (k.kind) {
            case ZERO_DATE -> asNull ? Finding.warning("zero_dates", name, "column " + k.column + " holds " + rows
                    + " zero date" + (n == 1 ? "" : "s") + " ('0000-00-00', or a zero month or day), copied and "
                    + "streamed as NULL (schema.zero_dates: as_null)", "nothing to do if NULL is what those rows mean; "
                    + "verification compares them as NULL")
                    : Finding.error("zero_dates", name, "column " + k.column + " holds " + rows + " zero date"
                    + (n == 1 ? "" : "s") + " ('0000-00-00', or a zero month or day), which PostgreSQL has no value "
                    + "for: each chunk holding one would fail", "UPDATE " + table + " SET " + col + " = NULL WHERE "
                    + k.predicate + "; (or set real dates), write schema.zero_dates: as_null to copy them as NULL, or "
                    + "leave the table out (scope.exclude)");
            case YEAR_ZERO -> Finding.error("out_of_range", name, "column " + k.column + " holds " + rows + " date"
                    + (n == 1 ? "" : "s") + " in year 0, which PostgreSQL has no value for (it counts 1 BC, 1 AD): "
                    + "each chunk holding one would fail", "UPDATE " + table + " SET " + col + " = NULL WHERE "
                    + k.predicate + "; (or set real dates), or leave the table out (scope.exclude)");
            case NOT_BOOLEAN -> Finding.error("out_of_range", name, "column " + k.column + " holds " + rows
                    + " value" + (n == 1 ? "" : "s") + " other than 0 and 1, which the boolean it maps to cannot hold: "
                    + "each chunk holding one would fail", "keep its numbers: schema: {columns: [{table: " + name
                    + ", column: " + k.column + ", type: smallint}]}");
            case NUL -> Finding.error("nul_characters", name, "column " + k.column + " holds " + rows + " value"
                    + (n == 1 ? "" : "s") + " with a NUL character, which PostgreSQL text cannot hold: each chunk "
                    + "holding one would fail", "UPDATE " + table + " SET " + col + " = REPLACE(" + col + ", CHAR(0), "
                    + "'') WHERE " + k.predicate + "; or leave the table out (scope.exclude)");
        };
    }

    /** True for a zero date or one with a zero month or day; NULL for NULL. */
    private static String zero(String column) {
        String col = MySqlSql.quote(column);
        return "MONTH(" + col + ") = 0 OR DAYOFMONTH(" + col + ") = 0";
    }
}
