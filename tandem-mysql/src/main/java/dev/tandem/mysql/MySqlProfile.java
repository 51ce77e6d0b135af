package dev.tandem.mysql;

import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.spi.ColumnInfo;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.TableInfo;
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
 * What the source's rows hold that the target cannot take, read by {@code plan} (and {@code migrate}'s preflight)
 * before anything is copied: zero dates — {@code 0000-00-00}, or a zero month or day — which PostgreSQL has no value
 * for, so each chunk holding one would fail mid-copy. Each table is read once, all its date columns in one pass, for
 * at most {@link #BUDGET} (the server stops the query: MariaDB's {@code max_statement_time}, MySQL's
 * {@code MAX_EXECUTION_TIME}); a table too large for that is named as not profiled, and its chunks still fail on a
 * zero date, naming the column. A zero date written after the plan stops the stream the same way. Under
 * {@code schema.zero_dates: as_null} they are counted as what becomes NULL.
 */
final class MySqlProfile {
    /** How long one table may be read. */
    static final Duration BUDGET = Duration.ofSeconds(5);
    /** MariaDB's ER_STATEMENT_TIMEOUT, MySQL's ER_QUERY_TIMEOUT. */
    private static final Set<Integer> TIMED_OUT = Set.of(1969, 3024);
    private static final Set<String> DATES = Set.of("date", "datetime", "timestamp");

    private MySqlProfile() {
    }

    /**
     * Counts the zero dates of every date column of {@code tables}: per column holding any, an error — or, under
     * {@code schema.zero_dates: as_null}, a warning saying how many become NULL.
     */
    static void zeroDates(Connection c, Flavor flavor, List<TableInfo> tables, ColumnTypes.ZeroDates policy,
                          List<Finding> out) throws SQLException {
        boolean asNull = policy == ColumnTypes.ZeroDates.AS_NULL;
        long t0 = System.nanoTime();
        int columns = 0;
        int profiled = 0;
        boolean found = false;
        List<String> notProfiled = new ArrayList<>();
        for (TableInfo t : tables) {
            List<String> dates = t.columns().stream().filter(col -> !col.generated()
                    && DATES.contains(col.nativeType().toLowerCase(Locale.ROOT).replaceAll("[ (].*", "")))
                    .map(ColumnInfo::name).toList();
            if (dates.isEmpty()) {
                continue;
            }
            String table = MySqlSql.table(t.ref());
            String select = "SELECT " + dates.stream().map(d -> "SUM(" + zero(d) + ")")
                    .collect(Collectors.joining(", ")) + " FROM " + table;
            String sql = flavor == Flavor.MARIADB ? "SET STATEMENT max_statement_time = " + BUDGET.toSeconds()
                    + " FOR " + select : select.replaceFirst("^SELECT ", "SELECT /*+ MAX_EXECUTION_TIME("
                    + BUDGET.toMillis() + ") */ ");
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                for (int i = 0; i < dates.size(); i++) {
                    long n = rs.getLong(i + 1);
                    if (n > 0 && asNull) {
                        out.add(Finding.warning("zero_dates", t.ref().qualified(), String.format(Locale.ROOT,
                                "column %s holds %,d zero date%s ('0000-00-00', or a zero month or day), copied and "
                                        + "streamed as NULL (schema.zero_dates: as_null)", dates.get(i), n,
                                n == 1 ? "" : "s"), "nothing to do if NULL is what those rows mean; verification "
                                + "compares them as NULL"));
                    } else if (n > 0) {
                        found = true;
                        String col = MySqlSql.quote(dates.get(i));
                        out.add(Finding.error("zero_dates", t.ref().qualified(), String.format(Locale.ROOT,
                                "column %s holds %,d zero date%s ('0000-00-00', or a zero month or day), which "
                                        + "PostgreSQL has no value for: each chunk holding one would fail",
                                dates.get(i), n, n == 1 ? "" : "s"), "UPDATE " + table + " SET " + col + " = NULL "
                                + "WHERE " + zero(dates.get(i)) + "; (or set real dates), write schema.zero_dates: as_null "
                                + "to copy them as NULL, or leave the table out (scope.exclude)"));
                    }
                }
                columns += dates.size();
                profiled++;
            } catch (SQLException e) {
                if (!TIMED_OUT.contains(e.getErrorCode())) {
                    throw e;
                }
                notProfiled.add(t.ref().qualified());
            }
        }
        if (!notProfiled.isEmpty()) {
            out.add(Finding.warning("zero_dates", "source", "not profiled for zero dates (each took more than "
                    + BUDGET.toSeconds() + " s to read): " + String.join(", ", notProfiled), (asNull ? "a zero date "
                    + "is copied as NULL" : "a zero date fails its chunk during the copy, naming the column")
                    + "; look for them with SELECT COUNT(*) FROM t WHERE MONTH(c) = 0 OR DAYOFMONTH(c) = 0"));
        }
        if (!found && columns > 0) {
            out.add(Finding.ok("zero_dates", "source", String.format(Locale.ROOT, "no zero dates in %d date column%s "
                    + "of %d table%s (read in %.1f s)", columns, columns == 1 ? "" : "s", profiled,
                    profiled == 1 ? "" : "s", (System.nanoTime() - t0) / 1e9)));
        }
    }

    /** True for a zero date or one with a zero month or day; NULL for NULL. */
    private static String zero(String column) {
        String col = MySqlSql.quote(column);
        return "MONTH(" + col + ") = 0 OR DAYOFMONTH(" + col + ") = 0";
    }
}
