package dev.tandem.mysql;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.ColumnTypes;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.spi.ChangeCapture;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * {@code cdc.method: binlog} (and {@code auto}) on MySQL and MariaDB: the binary log read as a replica reads it
 * ({@link BinlogStream}). Nothing is created on the source — no slot, no table: P0 is the log's end when the
 * migration prepares ({@code SHOW MASTER STATUS}); positions are {@code file:offset} and live in Tandem's store
 * only. So the source does not keep the log for the stream: a stored position whose file the server purged
 * ({@code binlog_expire_logs_seconds}, {@code PURGE BINARY LOGS}) cannot resume, and the start says so with the way
 * out. Fences are positions ({@link BinlogFences}).
 * <p>Deviation from DESIGN.md (Debezium's MySQL and MariaDB connectors, embedded): Debezium's MariaDB connector is not
 * served by Maven Central at the Debezium version Tandem uses (3.6.1), and its MySQL connector needs a schema history
 * store to name a binlog row's columns. Tandem already knows each table's columns and must write PostgreSQL's input
 * text of the mapped type anyway, so it reads the log with the binlog client those connectors are built on
 * ({@code io.debezium:mysql-binlog-connector-java}) and maps rows itself.
 */
final class BinlogChangeCapture implements ChangeCapture {
    private final Endpoint endpoint;
    private final Flavor flavor;
    private final BinlogChangeLog log = new BinlogChangeLog();
    private final BinlogFences fences = new BinlogFences();
    private final ColumnTypes types;

    /** @param types the manifest's choices for the values the stream writes ({@link BinlogValues}) */
    BinlogChangeCapture(Endpoint endpoint, Flavor flavor, ColumnTypes types) {
        this.endpoint = endpoint;
        this.flavor = flavor;
        this.types = types;
    }

    @Override
    public String positionKind() {
        return log.positionKind();
    }

    /** P0: the log's end now. Nothing to create; the same call again returns the log's end then (no state kept). */
    @Override
    public String open(Connection source, String streamName, String owner, List<TableRef> tables) throws SQLException {
        String p = log.currentPosition(source);
        if (p == null) {
            throw new SQLException("the binary log is off on the source (log_bin = OFF); enable it (log_bin, "
                    + "binlog_format = ROW, binlog_row_image = FULL, server_id) and restart the server");
        }
        return p;
    }

    @Override
    public void drop(Connection source, String streamName, String owner) {
        // nothing was made on the source
    }

    /** The log's end now, delivered by the running stream in this process once it got there. */
    @Override
    public String fence(Connection source, String marker) throws SQLException {
        String p = log.currentPosition(source);
        try {
            fences.add(BinlogPosition.parse(p), marker);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while fencing the binary log", "57014", e);
        }
        return p;
    }

    /** Fences are positions, known only to the process streaming: another one waits for the stored position. */
    @Override
    public boolean marksLog() {
        return false;
    }

    @Override
    public String currentPosition(Connection source) throws SQLException {
        return log.currentPosition(source);
    }

    @Override
    public long distance(String from, String to) {
        return BinlogPosition.parse(from).distanceTo(BinlogPosition.parse(to));
    }

    /**
     * The TLS the endpoint asks for ({@code sslMode} other than {@code disable}, or {@code useSsl=true}, in the URL
     * or its properties), if any: the binlog client is not given TLS settings yet, and reading the log in plain text
     * where the copy's connections use TLS would be a silent downgrade, so such a stream is refused.
     */
    static Optional<String> tlsAskedFor(Endpoint e) {
        Map<String, String> all = new HashMap<>();
        int q = e.url().indexOf('?');
        if (q >= 0) {
            for (String kv : e.url().substring(q + 1).split("&")) {
                int eq = kv.indexOf('=');
                all.put((eq < 0 ? kv : kv.substring(0, eq)).toLowerCase(Locale.ROOT), eq < 0 ? "" : kv.substring(
                        eq + 1));
            }
        }
        e.properties().forEach((k, v) -> all.put(k.toLowerCase(Locale.ROOT), v));
        String mode = all.get("sslmode");
        if (mode != null && !mode.equalsIgnoreCase("disable")) {
            return Optional.of("sslMode=" + mode);
        }
        return "true".equalsIgnoreCase(all.get("usessl")) ? Optional.of("useSsl=true") : Optional.empty();
    }

    @Override
    public ChangeStream start(StreamSpec spec) {
        tlsAskedFor(endpoint).ifPresent(tls -> {
            throw TandemException.badInput("source: " + tls + " asks for TLS, which the binary log stream does not "
                    + "use yet (its connection would read the log in plain text); set cdc: {method: none}, or "
                    + "timestamp_column polling, or reach the source over a trusted network without TLS");
        });
        String at = spec.offsets().load().or(() -> spec.offsets().confirmed()).orElseThrow(() ->
                new TandemException(ErrorCode.BAD_STATE, "stream " + spec.streamName() + " has no stored binlog "
                        + "position to start from"));
        BinlogPosition from = BinlogPosition.parse(at);
        Map<String, Charset> charsets;
        try (Connection c = connect()) {
            stillInLog(c, from, spec.streamName());
            charsets = charsets(c, spec.tables());
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot start reading the binary log: " + endpoint.scrub(
                    e.getMessage()), e);
        }
        try {
            return BinlogStream.start(endpoint, spec, from, charsets, flavor == Flavor.MARIADB, types, fences);
        } catch (IOException e) {
            throw new TandemException(ErrorCode.SOURCE, "cannot read the binary log from " + from + ": "
                    + endpoint.scrub(String.valueOf(e.getMessage())), e);
        }
    }

    private Connection connect() throws SQLException {
        return new MySqlConnector(endpoint, flavor, ColumnTypes.DEFAULT).connect();
    }

    /**
     * The stream's stored position must still be in the server's log: a purged file means changes are gone, and no
     * stream can bring the target back in step. The way out is a new run.
     */
    private static void stillInLog(Connection c, BinlogPosition from, String stream) throws SQLException {
        String first = null;
        boolean found = false;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
            while (rs.next()) {
                first = first == null ? rs.getString(1) : first;
                found |= rs.getString(1).equals(from.file());
            }
        }
        if (!found) {
            throw new TandemException(ErrorCode.SOURCE, "the binary log of stream " + stream + " is gone from the "
                    + "source: its position " + from + " is in a file the server no longer has (the oldest is "
                    + first + "; purged by binlog_expire_logs_seconds or PURGE BINARY LOGS), so the changes since "
                    + "then cannot be read. Start again: tandem abort the migration and migrate it anew (a new copy "
                    + "and stream), and keep the binary log longer than a copy takes (binlog_expire_logs_seconds)");
        }
    }

    /** Each text column's character set, by {@code schema.table.column}: the binlog carries bytes. */
    private static Map<String, Charset> charsets(Connection c, List<TableInfo> tables) throws SQLException {
        Map<String, Charset> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM "
                + "information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
                + "AND CHARACTER_SET_NAME IS NOT NULL")) {
            for (TableInfo t : tables) {
                ps.setString(1, t.ref().schema());
                ps.setString(2, t.ref().name());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(t.ref().qualified() + "." + rs.getString(1), charset(rs.getString(2), t.ref(),
                                rs.getString(1)));
                    }
                }
            }
        }
        return out;
    }

    static Charset charset(String mysql, TableRef table, String column) {
        return switch (mysql.toLowerCase(Locale.ROOT)) {
            case "utf8mb4", "utf8mb3", "utf8" -> StandardCharsets.UTF_8;
            case "latin1" -> Charset.forName("windows-1252"); // MySQL's latin1 is cp1252
            case "ascii" -> StandardCharsets.US_ASCII;
            case "ucs2", "utf16" -> StandardCharsets.UTF_16BE;
            case "utf16le" -> StandardCharsets.UTF_16LE;
            case "utf32" -> Charset.forName("UTF-32BE");
            case "binary" -> StandardCharsets.ISO_8859_1;
            default -> {
                Optional<Charset> known = Charset.availableCharsets().values().stream()
                        .filter(cs -> cs.name().equalsIgnoreCase(mysql) || cs.aliases().contains(mysql)).findFirst();
                yield known.orElseThrow(() -> new TandemException(ErrorCode.SOURCE, table.qualified() + "."
                        + column + " is in character set " + mysql + ", which the stream cannot decode; convert the "
                        + "column to utf8mb4 (ALTER TABLE ... CONVERT TO CHARACTER SET utf8mb4) or leave the table "
                        + "out"));
            }
        };
    }
}
