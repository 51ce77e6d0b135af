package dev.tandem.core.verify;

import dev.tandem.core.store.DriftKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a {@code tandem verify} found, table by table as Vitess VDiff reports it, with a sample of the differing rows
 * (all of them are stored as drift); and the running counts it is built from.
 *
 * @param lagAware    differences were rechecked against a running change stream
 * @param whyInFlight null, or why some differences could not be rechecked (the stream did not catch up)
 */
public record VerifyReport(long runId, String migrationId, List<TableReport> tables, double seconds, boolean lagAware,
                           String whyInFlight) {
    /** Differing rows reported per table with their columns; all of them are stored. */
    static final int SAMPLES = 10;

    public long inFlight() {
        return tables.stream().mapToLong(TableReport::inFlight).sum();
    }

    public long differing() {
        return tables.stream().mapToLong(TableReport::differing).sum();
    }

    public long unrepaired() {
        return differing() - tables.stream().mapToLong(TableReport::repaired).sum();
    }

    /** Column differences over all tables (a column on one side only, a type changed): never repaired by verify. */
    public long schemaDifferences() {
        return tables.stream().mapToLong(t -> t.schema().size()).sum();
    }

    /** No differing row and no column difference. */
    public boolean equal() {
        return differing() == 0 && schemaDifferences() == 0;
    }

    /** One differing row: its key, how it differs, and per differing column the source and target values. */
    public record Sample(List<String> key, DriftKind kind, Map<String, List<String>> columns) {
    }

    /**
     * Per table.
     *
     * @param schema how the table's columns differ between the sides, one line each (rows were compared over the
     *               columns both have)
     */
    public record TableReport(String table, long processed, long matching, long mismatched, long extraOnSource,
                              long extraOnTarget, long repaired, long changedSinceCompared, long inFlight,
                              List<Sample> samples, List<String> schema) {
        public long differing() {
            return mismatched + extraOnSource + extraOnTarget;
        }
    }

    /** Running counts of one table while the verify runs. */
    static final class Tally {
        long processed;
        long matching;
        long mismatched;
        long extraOnSource;
        long extraOnTarget;
        long repaired;
        long changed;
        long inFlight;
        String whyInFlight;
        List<String> schema = List.of();
        final List<Sample> samples = new ArrayList<>();

        void add(Tally x) {
            processed += x.processed;
            matching += x.matching;
            mismatched += x.mismatched;
            extraOnSource += x.extraOnSource;
            extraOnTarget += x.extraOnTarget;
            repaired += x.repaired;
            changed += x.changed;
            inFlight += x.inFlight;
            whyInFlight = whyInFlight != null ? whyInFlight : x.whyInFlight;
            for (Sample sm : x.samples) {
                if (samples.size() < SAMPLES) {
                    samples.add(sm);
                }
            }
        }

        TableReport report(String table) {
            return new TableReport(table, processed, matching, mismatched, extraOnSource, extraOnTarget, repaired,
                    changed, inFlight, List.copyOf(samples), List.copyOf(schema));
        }
    }

}
