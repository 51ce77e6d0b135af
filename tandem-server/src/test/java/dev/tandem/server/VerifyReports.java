package dev.tandem.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Reading {@code tandem verify --json} reports in tests. */
final class VerifyReports {
    private VerifyReports() {
    }

    static JsonNode table(JsonNode report, String table) {
        for (JsonNode t : report.path("tables")) {
            if (t.path("table").asText().equals(table)) {
                return t;
            }
        }
        throw new AssertionError("no table " + table + " in " + report);
    }

    /** "table kind [key] [differing columns]" for every sample. */
    static List<String> found(JsonNode report) {
        List<String> out = new ArrayList<>();
        for (JsonNode t : report.path("tables")) {
            for (JsonNode s : t.path("samples")) {
                List<String> key = new ArrayList<>();
                s.path("key").forEach(k -> key.add(k.asText()));
                Set<String> cols = new TreeSet<>();
                s.path("columns").fieldNames().forEachRemaining(cols::add);
                out.add(t.path("table").asText() + " " + s.path("kind").asText() + " " + key + " " + cols);
            }
        }
        return out;
    }
}
