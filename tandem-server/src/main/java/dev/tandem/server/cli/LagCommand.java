package dev.tandem.server.cli;

import dev.tandem.core.cdc.LagReport;
import dev.tandem.core.store.StreamDirection;
import dev.tandem.core.store.StreamPosition;
import dev.tandem.server.wire.Json;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tandem lag MIGRATION_ID [--json]}: seed 000's lag answer, from what the streaming process records. */
@Command(name = "lag", header = "Show how far the target is behind the source (seconds, records, bytes, trend).",
        mixinStandardHelpOptions = true,
        description = "Read from the control store, where the process streaming the migration records its lag every "
                + "second. --json prints seed 000's shape: "
                + "{\"lag\":{\"seconds\",\"records\",\"bytes\"},\"trend\",\"estimated_catch_up\",\"cdc_position\"}.")
final class LagCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MIGRATION_ID")
    String migrationId;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;


    @Mixin
    RemoteOrLocal where;

    private final Map<String, String> env;

    LagCommand(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        return where.runReading(env, server -> {
            com.fasterxml.jackson.databind.JsonNode d = server.get("/api/v1/migrations/" + migrationId + "/lag");
            if (json) {
                out.println(Json.write(d));
            } else {
                out.printf(Locale.ROOT, "Migration %s: lag %.1f s, %,d records, %s; %s; caught up in %s.%n",
                        migrationId, d.path("lag").path("seconds").asDouble(), d.path("lag").path("records").asLong(),
                        dev.tandem.core.plan.Sizes.bytes(d.path("lag").path("bytes").asLong()),
                        d.path("trend").asText(), d.path("estimated_catch_up").asText());
            }
            return 0;
        }, cs -> {
            LagReport.Live live = LagReport.live(cs, cs.migrations().get(migrationId));
            LagReport r = live.report();
            StreamPosition pos = live.position();
            if (r.stale()) {
                spec.commandLine().getErr().println("note: no process is streaming " + migrationId + " now; these "
                        + "figures are from " + r.sampledAt() + " (continue with tandem migrate -f MANIFEST)");
            }
            if (json) {
                out.println(Json.write(Json.lag(live)));
            } else {
                out.printf(Locale.ROOT, "Migration %s: lag %.1f s, %,d records, %s; %s; caught up in %s%s.%n",
                        migrationId, r.seconds(), r.records(), dev.tandem.core.plan.Sizes.bytes(r.bytes()), r.trend(),
                        r.estimatedCatchUp(), live.direction() == StreamDirection.REVERSE
                                ? " (the reverse stream, target to source, kept for a rollback)" : "");
                out.printf(Locale.ROOT, "Applied up to %s %s (committed on the source at %s).%n",
                        pos.kind(), r.position(), r.positionTime() == null ? "-" : r.positionTime());
            }
            return 0;
        });
    }
}
