package dev.tandem.postgres;

import static dev.tandem.postgres.PgCatalog.execute;
import static dev.tandem.postgres.PgCatalog.exists;
import static dev.tandem.postgres.PgCatalog.strings;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The user-defined types a table needs on the target before it can be created: enums, domains (with their checks)
 * and composite types, in their schemas. A type an extension owns is not created: the error names the extension to
 * install on the target.
 */
final class PgTypeCopier {
    private PgTypeCopier() {
    }

    /** Enum, domain and composite types the table's columns use (directly, as array elements or domain bases). */
    static void createTypes(Connection source, Connection target, long tableOid, TableRef ref, List<String> done)
            throws SQLException {
        List<Long> types = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT DISTINCT x.oid FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  JOIN pg_type x ON x.oid IN (t.oid, t.typelem, t.typbasetype)
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND x.oid >= 16384
                   AND x.typtype IN ('e', 'd', 'c') AND (x.typtype <> 'c' OR x.typrelid = 0
                        OR (SELECT relkind FROM pg_class WHERE oid = x.typrelid) = 'c')""")) {
            ps.setLong(1, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    types.add(rs.getLong(1));
                }
            }
        }
        for (long typeOid : types) {
            createType(source, target, typeOid, ref, done);
        }
    }

    private static void createType(Connection source, Connection target, long typeOid, TableRef ref, List<String> done)
            throws SQLException {
        String name;
        String schema;
        String bare;
        char kind;
        String extension;
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT format_type(t.oid, NULL), n.nspname, t.typname, t.typtype,
                       (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
                         WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
                  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ?""")) {
            ps.setLong(1, typeOid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                name = rs.getString(1);
                schema = rs.getString(2);
                bare = rs.getString(3);
                kind = rs.getString(4).charAt(0);
                extension = rs.getString(5);
            }
        }
        if (exists(target, "SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                + "WHERE n.nspname = ? AND t.typname = ?", schema, bare)) {
            return;
        }
        if (extension != null) {
            throw new TandemException(ErrorCode.TARGET, "table " + ref + " uses type " + name + " from extension "
                    + extension + ", which the target lacks: run CREATE EXTENSION " + PgIdent.quote(extension)
                    + " on the target first");
        }
        if (!exists(target, "SELECT 1 FROM pg_namespace WHERE nspname = ?", schema)) {
            execute(target, "CREATE SCHEMA " + PgIdent.quote(schema));
        }
        String ddl = switch (kind) {
            case 'e' -> "CREATE TYPE " + name + " AS ENUM (" + String.join(", ", strings(source,
                    "SELECT quote_literal(enumlabel) FROM pg_enum WHERE enumtypid = ? ORDER BY enumsortorder", typeOid))
                    + ")";
            case 'd' -> domain(source, typeOid, name);
            default -> "CREATE TYPE " + name + " AS (" + String.join(", ", strings(source, "SELECT quote_ident(a.attname) "
                    + "|| ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_type t JOIN pg_attribute a "
                    + "ON a.attrelid = t.typrelid WHERE t.oid = ? AND a.attnum > 0 AND NOT a.attisdropped "
                    + "ORDER BY a.attnum", typeOid)) + ")";
        };
        execute(target, ddl);
        done.add("created type " + name);
    }

    private static String domain(Connection source, long typeOid, String name) throws SQLException {
        StringBuilder ddl = new StringBuilder("CREATE DOMAIN " + name + " AS ");
        try (PreparedStatement ps = source.prepareStatement("SELECT format_type(typbasetype, typtypmod), typnotnull, "
                + "typdefault FROM pg_type WHERE oid = ?")) {
            ps.setLong(1, typeOid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                ddl.append(rs.getString(1));
                if (rs.getString(3) != null) {
                    ddl.append(" DEFAULT ").append(rs.getString(3));
                }
                if (rs.getBoolean(2)) {
                    ddl.append(" NOT NULL");
                }
            }
        }
        for (String check : strings(source, "SELECT 'CONSTRAINT ' || quote_ident(conname) || ' ' || "
                + "pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = ? ORDER BY conname", typeOid)) {
            ddl.append(' ').append(check);
        }
        return ddl.toString();
    }
}
