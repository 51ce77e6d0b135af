package dev.tandem.core.plan;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import dev.tandem.core.manifest.Endpoint;
import dev.tandem.core.manifest.Engine;
import dev.tandem.core.manifest.Manifest;
import dev.tandem.core.spi.ChunkReader;
import dev.tandem.core.spi.ChunkWriter;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.ConnectorRegistry;
import dev.tandem.core.spi.CopyFormat;
import dev.tandem.core.spi.Role;
import dev.tandem.core.spi.TableInfo;
import dev.tandem.core.spi.TableRef;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a migration moves, resolved once against the databases: the connector of each side, the source tables in
 * scope, and per table the job of a copy (or a comparison) with its shape on both sides. The migration, verify and
 * the cutover all start here instead of each selecting connectors and resolving the scope their own way.
 */
public final class Tables {
    private final Manifest manifest;
    private final Connector source;
    private final Connector target;
    private List<TableInfo> sourceTables;
    private List<TableJob> copyJobs;

    public Tables(Manifest manifest, Connector source, Connector target) {
        this.manifest = manifest;
        this.source = source;
        this.target = target;
    }

    /** Picks each side's connector (by JDBC URL and priority); a side that cannot be reached is its error class. */
    public static Tables of(ConnectorRegistry registry, Manifest m) {
        return new Tables(m, connector(registry, m, Role.SOURCE), connector(registry, m, Role.TARGET));
    }

    public static Connector connector(ConnectorRegistry registry, Manifest m, Role role) {
        try {
            Endpoint peer = role == Role.SOURCE ? m.target() : m.source();
            return registry.select(role == Role.SOURCE ? m.source() : m.target(), role.wire(),
                    m.types().towards(peer == null ? null : Engine.ofUrl(peer.url()).orElse(null)));
        } catch (SQLException e) {
            throw new TandemException(role == Role.SOURCE ? ErrorCode.SOURCE : ErrorCode.TARGET, "cannot connect to "
                    + "the " + role.wire() + ": " + e.getMessage(), e);
        }
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The same migration's tables, to be described again (their columns changed: a schema change applied). */
    public Tables reread() {
        return new Tables(manifest, source, target);
    }

    /**
     * These tables under a changed manifest of the same migration (a running migration's policies PATCHed: what
     * moves cannot change then, so the connectors and the resolved tables are shared).
     */
    public Tables with(Manifest changed) {
        Tables t = new Tables(changed, source, target);
        t.sourceTables = sourceTables;
        t.copyJobs = copyJobs;
        return t;
    }

    public Connector source() {
        return source;
    }

    public Connector target() {
        return target;
    }

    /** The source tables in scope, described (read once). */
    public List<TableInfo> sourceTables() throws SQLException {
        if (sourceTables == null) {
            try (Connection c = source.connect()) {
                var in = source.introspector();
                ScopeResolver.Resolution scope = ScopeResolver.resolve(manifest.scope(), in.listTables(c),
                        in.defaultSchema(c), in.listsOnlyPrivilegedTables());
                List<TableInfo> out = new ArrayList<>();
                for (TableRef ref : scope.tables()) {
                    out.add(in.describe(c, ref).orElseThrow(() -> new TandemException(ErrorCode.SOURCE, "table " + ref
                            + " disappeared from the source while the migration started")));
                }
                sourceTables = List.copyOf(out);
            }
        }
        return sourceTables;
    }

    /**
     * Each table's copy: its shape on both sides, the columns that move and the format both connectors speak. Read
     * once, after the target tables exist (created or checked).
     */
    public List<TableJob> copyJobs() throws SQLException {
        if (copyJobs != null) {
            return copyJobs;
        }
        ChunkReader reader = source.chunkReader().orElseThrow(() -> TandemException.badInput("the " + source.name()
                + " connector cannot copy rows out as a source yet; tandem verify can compare it with a target"));
        ChunkWriter writer = target.chunkWriter().orElseThrow(() -> TandemException.badInput("the " + target.name()
                + " connector cannot load rows as a target yet; tandem verify can compare it with a source"));
        List<TableJob> out = new ArrayList<>();
        try (Connection t = target.connect()) {
            for (TableInfo s : sourceTables()) {
                TableInfo ti = target.introspector().describe(t, s.ref()).orElseThrow(() -> new TandemException(
                        ErrorCode.TARGET, "table " + s.ref() + " is missing on the target; it was created or checked "
                        + "moments ago"));
                List<CopyFormat> accepted = writer.formats(s, ti);
                CopyFormat format = reader.formats(s).stream().filter(accepted::contains).findFirst()
                        .orElseThrow(() -> TandemException.badInput("no common copy format between " + source.name()
                                + " and " + target.name() + " for " + s.ref()));
                out.add(new TableJob(s, ti, s.copiedColumns(), format));
            }
        }
        copyJobs = List.copyOf(out);
        return copyJobs;
    }

    /**
     * Each table's comparison, by qualified name: the columns both sides have. A table missing on the target is bad
     * input (verify compares tables that exist on both sides).
     */
    public Map<String, TableJob> compareJobs() throws SQLException {
        Map<String, TableJob> out = new LinkedHashMap<>();
        List<TableInfo> tables = sourceTables();
        try (Connection t = target.connect()) {
            for (TableInfo s : tables) {
                TableInfo ti = target.introspector().describe(t, s.ref()).orElseThrow(() -> TandemException.badInput(
                        "table " + s.ref() + " is missing on the target; verify compares tables that exist on both "
                                + "sides (migrate first, or narrow scope)"));
                List<String> columns = s.copiedColumns().stream().filter(col -> ti.column(col).isPresent()).toList();
                out.put(s.ref().qualified(), new TableJob(s, ti, columns, null));
            }
        } catch (SQLException e) {
            throw new TandemException(ErrorCode.TARGET, "cannot read the target's tables: " + manifest.target().scrub(
                    e.getMessage()), e);
        }
        return out;
    }
}
