package dev.tandem.postgres;

import static dev.tandem.postgres.PgCatalog.execute;
import static dev.tandem.postgres.PgCatalog.exists;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sequences behind a table's defaults and identity columns: created on the target before the table, their values
 * copied after the data, and moved past each other's at a cutover or rollback, so that neither side hands out a value
 * the other already gave.
 */
final class PgSequences {
    private PgSequences() {
    }

    /**
     * Sequences the table's column defaults use (serial columns and shared sequences), created on the target when
     * missing. Returns [sequence, column] for those a column owns, to be tied to it once the table exists.
     */
    static List<String[]> create(Connection source, Connection target, long tableOid, List<String> done)
            throws SQLException {
        List<String[]> owned = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT DISTINCT quote_ident(sn.nspname) || '.' || quote_ident(sc.relname), sn.nspname, sc.relname,
                       format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
                       s.seqcycle, (SELECT a.attname FROM pg_depend o JOIN pg_attribute a
                                     ON a.attrelid = o.refobjid AND a.attnum = o.refobjsubid
                                    WHERE o.classid = 'pg_class'::regclass AND o.objid = sc.oid AND o.deptype = 'a'
                                      AND o.refobjid = ?)
                  FROM pg_attrdef ad
                  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                       AND d.refclassid = 'pg_class'::regclass
                  JOIN pg_class sc ON sc.oid = d.refobjid AND sc.relkind = 'S'
                  JOIN pg_namespace sn ON sn.oid = sc.relnamespace
                  JOIN pg_sequence s ON s.seqrelid = sc.oid
                 WHERE ad.adrelid = ?""")) {
            ps.setLong(1, tableOid);
            ps.setLong(2, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    if (!exists(target, "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            + "WHERE n.nspname = ? AND c.relname = ?", rs.getString(2), rs.getString(3))) {
                        execute(target, "CREATE SEQUENCE " + name + " AS " + rs.getString(4) + " START WITH "
                                + rs.getLong(5) + " INCREMENT BY " + rs.getLong(6) + " MINVALUE " + rs.getLong(7)
                                + " MAXVALUE " + rs.getLong(8) + " CACHE " + rs.getLong(9)
                                + (rs.getBoolean(10) ? " CYCLE" : " NO CYCLE"));
                        done.add("created sequence " + name);
                    }
                    if (rs.getString(11) != null) {
                        owned.add(new String[] {name, rs.getString(11)});
                    }
                }
            }
        }
        return owned;
    }

    /** Every sequence behind the table's defaults and identity columns, keyed by the source name, with the target's. */
    static Map<String, String> of(Connection source, long tableOid) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT DISTINCT quote_ident(sn.nspname) || '.' || quote_ident(sc.relname)
                  FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
                  JOIN pg_namespace sn ON sn.oid = sc.relnamespace
                 WHERE d.refobjid = ? AND d.deptype IN ('a', 'i')
                UNION
                SELECT DISTINCT quote_ident(sn.nspname) || '.' || quote_ident(sc.relname)
                  FROM pg_attrdef ad
                  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                  JOIN pg_class sc ON sc.oid = d.refobjid AND sc.relkind = 'S'
                  JOIN pg_namespace sn ON sn.oid = sc.relnamespace
                 WHERE ad.adrelid = ?""")) {
            ps.setLong(1, tableOid);
            ps.setLong(2, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Sets the target sequence to where the source one stands (after the data copy). */
    static void copyValue(Connection source, Connection target, String sourceName, String targetName,
                          List<String> done) throws SQLException {
        long last;
        boolean called;
        try (Statement st = source.createStatement(); ResultSet rs = st.executeQuery("SELECT last_value, is_called FROM "
                + sourceName)) {
            rs.next();
            last = rs.getLong(1);
            called = rs.getBoolean(2);
        }
        try (PreparedStatement ps = target.prepareStatement("SELECT setval(?::regclass, ?, ?)")) {
            ps.setString(1, targetName);
            ps.setLong(2, last);
            ps.setBoolean(3, called);
            ps.execute();
        }
        done.add("set sequence " + targetName + " to " + last + (called ? "" : " (not yet called)"));
    }

    /**
     * Moves each sequence on {@code to} past every value {@code from} gave out (cutover and rollback); never back.
     */
    static List<String> sync(Connection from, Connection to, List<String> sequences) throws SQLException {
        List<String> done = new ArrayList<>();
        for (String seq : sequences) {
            long last;
            boolean called;
            try (Statement st = from.createStatement(); ResultSet rs = st.executeQuery("SELECT last_value, is_called "
                    + "FROM " + seq)) {
                rs.next();
                last = rs.getLong(1);
                called = rs.getBoolean(2);
            }
            if (!called) {
                continue; // 'from' gave out no value yet
            }
            // the next value on 'to' must be past every value 'from' gave out: setval(last, true) hands out last+1
            try (PreparedStatement ps = to.prepareStatement("SELECT setval(?::regclass, GREATEST(?, s.last_value), "
                    + "true) FROM pg_sequences s WHERE format('%I.%I', s.schemaname, s.sequencename) = ?")) {
                ps.setString(1, seq);
                ps.setLong(2, last);
                ps.setString(3, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    done.add(rs.next() ? "set sequence " + seq + " to " + rs.getLong(1) : "sequence " + seq
                            + " is missing on the other side");
                }
            }
        }
        return done;
    }
}
