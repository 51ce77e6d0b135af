package dev.tandem.postgres;

import static dev.tandem.postgres.PgCatalog.execute;
import static dev.tandem.postgres.PgCatalog.exists;
import static dev.tandem.postgres.PgCatalog.oid;
import static dev.tandem.postgres.PgCatalog.qualifiedNames;
import static dev.tandem.postgres.PgCatalog.relkind;
import static dev.tandem.postgres.PgCatalog.resetNames;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.spi.ColumnChange;
import dev.tandem.core.spi.SchemaCopier;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * PostgreSQL to PostgreSQL {@code schema: create}. The definitions come from the catalog functions pg_dump relies on
 * (format_type, pg_get_expr, pg_get_constraintdef, pg_get_indexdef), read with an empty search_path so every name
 * they print is schema-qualified. Before the data: schemas, enum/domain/composite types, sequences, tables with
 * columns, defaults, identity, generated columns, primary key and checks. After it: secondary indexes and unique
 * constraints in parallel, foreign keys, sequence values, ANALYZE.
 * <p>Not created: partitioned tables (create them yourself and use {@code schema: existing}), triggers, policies,
 * grants and comments; types from extensions must exist on the target (the error names the extension).
 */
final class PostgresSchemaCopier implements SchemaCopier {

    @Override
    public List<String> alterStatements(TableRef table, ColumnChange change) {
        return PgAlter.statements(table, change);
    }

    @Override
    public boolean widens(String from, String to) {
        return PgAlter.widens(from, to);
    }

    @Override
    public List<String> createTables(Connection source, Connection target, List<TableInfo> tables,
                                     boolean deferPrimaryKeys) throws SQLException {
        List<String> done = new ArrayList<>();
        qualifiedNames(source);
        try {
            Set<String> schemas = new LinkedHashSet<>();
            tables.forEach(t -> schemas.add(t.ref().schema()));
            for (String schema : schemas) {
                if (!exists(target, "SELECT 1 FROM pg_namespace WHERE nspname = ?", schema)) {
                    execute(target, "CREATE SCHEMA " + PgIdent.quote(schema));
                    done.add("created schema " + schema);
                }
            }
            for (TableInfo t : tables) {
                long oid = oid(source, t.ref());
                if (relkind(source, oid) == 'p') {
                    throw new TandemException(ErrorCode.SOURCE, "table " + t.ref() + " is partitioned; schema: create "
                            + "does not create partitioned tables yet: create it with its partitions on the target "
                            + "and set schema: existing");
                }
                PgTypeCopier.createTypes(source, target, oid, t.ref(), done);
                if (exists(target, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE n.nspname = ? AND c.relname = ?", t.ref().schema(), t.ref().name())) {
                    continue;
                }
                List<String[]> ownedSequences = PgSequences.create(source, target, oid, done);
                execute(target, createTable(source, oid, t.ref(), deferPrimaryKeys));
                for (String[] owned : ownedSequences) {
                    execute(target, "ALTER SEQUENCE " + owned[0] + " OWNED BY " + PgSql.table(t.ref()) + "."
                            + PgIdent.quote(owned[1]));
                }
                done.add("created table " + t.ref() + (deferPrimaryKeys ? " (primary key after the data)" : ""));
            }
        } finally {
            resetNames(source);
        }
        return done;
    }

    @Override
    public List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables, int parallelism)
            throws SQLException {
        return finishTables(source, target, tables, parallelism, false);
    }

    @Override
    public List<String> finishTables(Connection source, ConnectionSource target, List<TableInfo> tables, int parallelism,
                                     boolean streaming) throws SQLException {
        List<String> done = Collections.synchronizedList(new ArrayList<>());
        List<String> indexes = new ArrayList<>();
        List<String> foreignKeys = new ArrayList<>();
        Map<String, String> sequences = new LinkedHashMap<>();
        qualifiedNames(source);
        try (Connection t = target.open()) {
            for (TableInfo table : tables) {
                long oid = oid(source, table.ref());
                indexes.addAll(missingIndexes(source, t, oid, table.ref()));
                foreignKeys.addAll(missingForeignKeys(source, t, oid, table.ref(), done));
                sequences.putAll(PgSequences.of(source, oid));
            }
        } finally {
            resetNames(source);
        }
        runParallel(target, indexes, parallelism, done);
        try (Connection t = target.open()) {
            for (String fk : foreignKeys) {
                if (streaming && !fk.endsWith(" NOT VALID")) {
                    fk = fk + " NOT VALID";
                }
                execute(t, fk);
                done.add(fk);
            }
            for (Map.Entry<String, String> seq : sequences.entrySet()) {
                PgSequences.copyValue(source, t, seq.getKey(), seq.getValue(), done);
            }
        }
        List<String> analyze = tables.stream().map(x -> "ANALYZE " + PgSql.table(x.ref())).toList();
        runParallel(target, analyze, parallelism, Collections.synchronizedList(new ArrayList<>()));
        return done;
    }

    @Override
    public List<String> sequences(Connection c, List<TableInfo> tables) throws SQLException {
        Map<String, String> sequences = new LinkedHashMap<>();
        qualifiedNames(c);
        try {
            for (TableInfo table : tables) {
                sequences.putAll(PgSequences.of(c, oid(c, table.ref())));
            }
        } finally {
            resetNames(c);
        }
        return List.copyOf(sequences.keySet());
    }

    @Override
    public List<String> syncSequences(Connection from, Connection to, List<String> sequences) throws SQLException {
        return PgSequences.sync(from, to, sequences);
    }

    /** CREATE TABLE with columns, defaults, identity, generated columns, check constraints and maybe the key. */
    private String createTable(Connection source, long oid, TableRef ref, boolean deferPrimaryKey) throws SQLException {
        List<String> parts = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                       a.attgenerated, a.attidentity,
                       CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0
                            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                       s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  LEFT JOIN pg_collation co ON co.oid = a.attcollation
                  LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                  LEFT JOIN pg_sequence s ON a.attidentity <> ''
                       AND s.seqrelid = pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StringBuilder col = new StringBuilder(PgIdent.quote(rs.getString(1))).append(' ')
                            .append(rs.getString(2));
                    if (rs.getString(7) != null) {
                        col.append(" COLLATE ").append(rs.getString(7));
                    }
                    String generated = rs.getString(5);
                    String identity = rs.getString(6);
                    if ("s".equals(generated)) {
                        col.append(" GENERATED ALWAYS AS (").append(rs.getString(4)).append(") STORED");
                    } else if (identity != null && !identity.isEmpty()) {
                        col.append(" GENERATED ").append("a".equals(identity) ? "ALWAYS" : "BY DEFAULT")
                                .append(" AS IDENTITY (START WITH ")
                                .append(rs.getLong(8)).append(" INCREMENT BY ").append(rs.getLong(9))
                                .append(" MINVALUE ").append(rs.getLong(10)).append(" MAXVALUE ").append(rs.getLong(11))
                                .append(" CACHE ").append(rs.getLong(12)).append(rs.getBoolean(13) ? " CYCLE" : " NO CYCLE")
                                .append(")");
                    } else if (rs.getString(4) != null) {
                        col.append(" DEFAULT ").append(rs.getString(4));
                    }
                    if (rs.getBoolean(3)) {
                        col.append(" NOT NULL");
                    }
                    parts.add(col.toString());
                }
            }
        }
        try (PreparedStatement ps = source.prepareStatement("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                + "WHERE conrelid = ? AND contype IN (" + (deferPrimaryKey ? "'c'" : "'p', 'c'")
                + ") ORDER BY contype DESC, conname")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    parts.add("CONSTRAINT " + PgIdent.quote(rs.getString(1)) + " " + rs.getString(2));
                }
            }
        }
        return "CREATE TABLE " + PgSql.table(ref) + " (\n    " + String.join(",\n    ", parts) + "\n)";
    }

    /** The primary key if the target lacks it (it was deferred), other indexes, unique / exclusion constraints. */
    private static List<String> missingIndexes(Connection source, Connection target, long oid, TableRef ref)
            throws SQLException {
        List<String> out = new ArrayList<>();
        boolean targetHasKey = exists(target, "SELECT 1 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                + "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ? AND t.relname = ? "
                + "AND c.contype = 'p'", ref.schema(), ref.name());
        if (!targetHasKey) {
            try (PreparedStatement ps = source.prepareStatement("SELECT conname, pg_get_constraintdef(oid) "
                    + "FROM pg_constraint WHERE conrelid = ? AND contype = 'p'")) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        out.add("ALTER TABLE " + PgSql.table(ref) + " ADD CONSTRAINT " + PgIdent.quote(rs.getString(1))
                                + " " + rs.getString(2));
                    }
                }
            }
        }
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT ic.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid)
                  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                  LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                       AND con.contype IN ('u', 'x')
                 WHERE i.indrelid = ? AND NOT i.indisprimary
                 ORDER BY ic.relname""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (exists(target, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            + "WHERE n.nspname = ? AND c.relname = ?", ref.schema(), rs.getString(1))) {
                        continue;
                    }
                    out.add(rs.getString(3) != null
                            ? "ALTER TABLE " + PgSql.table(ref) + " ADD CONSTRAINT " + PgIdent.quote(rs.getString(3)) + " "
                            + rs.getString(4)
                            : rs.getString(2));
                }
            }
        }
        return out;
    }

    private static List<String> missingForeignKeys(Connection source, Connection target, long oid, TableRef ref,
                                                   List<String> done) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT con.conname, pg_get_constraintdef(con.oid), rn.nspname, rc.relname
                  FROM pg_constraint con JOIN pg_class rc ON rc.oid = con.confrelid
                  JOIN pg_namespace rn ON rn.oid = rc.relnamespace
                 WHERE con.conrelid = ? AND con.contype = 'f' ORDER BY con.conname""")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    if (exists(target, "SELECT 1 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                            + "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ? AND t.relname = ? "
                            + "AND c.conname = ?", ref.schema(), ref.name(), name)) {
                        continue;
                    }
                    if (!exists(target, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            + "WHERE n.nspname = ? AND c.relname = ?", rs.getString(3), rs.getString(4))) {
                        done.add("skipped foreign key " + name + " of " + ref + ": it references " + rs.getString(3) + "."
                                + rs.getString(4) + ", which is not on the target");
                        continue;
                    }
                    out.add("ALTER TABLE " + PgSql.table(ref) + " ADD CONSTRAINT " + PgIdent.quote(name) + " "
                            + rs.getString(2));
                }
            }
        }
        return out;
    }

    private static void runParallel(ConnectionSource target, List<String> statements, int parallelism, List<String> done)
            throws SQLException {
        if (statements.isEmpty()) {
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(parallelism, statements.size())));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (String sql : statements) {
                futures.add(pool.submit(() -> {
                    try (Connection c = target.open()) {
                        execute(c, sql);
                    }
                    done.add(sql);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof SQLException s) {
                        throw s;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while building indexes", "57014");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
