package dev.tandem.core.verify;

import dev.tandem.core.plan.TableJob;
import dev.tandem.core.spi.Checksums;
import dev.tandem.core.spi.Connector;
import dev.tandem.core.spi.RowReader;
import dev.tandem.core.spi.TableRef;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How the two sides of a migration are compared, the one answer {@code tandem verify} and continuous verification
 * share: in the databases when both are the same engine with checksums ({@link Connector#checksums}), else by
 * Tandem's own checksums over the rows each side's {@link RowReader} returns ({@link CanonicalChecksums}), normalised
 * per column pair.
 * <p>Hazard: the canonical checksums of two engines agree on values, not on key order. A row may fall into one chunk
 * on the source and another on the target (a collation where 'a' = 'A' against one where it is not), so a chunk
 * comparison that is not {@link #inDatabase} is only ever a list of suspects: each is compared again by key before it
 * counts.
 *
 * @param inDatabase both sides compute their checksums in the database the same way
 */
record PairChecksums(Checksums source, Checksums target, boolean inDatabase) {

    /** Why the two sides cannot be compared at all (a side whose rows Tandem cannot read), or empty. */
    static Optional<String> whyNot(Connector source, Connector target) {
        if (sameEngine(source, target)) {
            return Optional.empty();
        }
        for (Connector c : new Connector[] {source, target}) {
            if (c.rowReader().isEmpty()) {
                return Optional.of("comparing " + source.name() + " with " + target.name() + " needs the rows of "
                        + "both read by Tandem, and it cannot read " + c.name() + " rows yet");
            }
        }
        return Optional.empty();
    }

    /**
     * Both sides' checksums for {@code jobs}. Call only when {@link #whyNot} is empty.
     *
     * @throws IllegalStateException when {@link #whyNot} is not empty
     */
    static PairChecksums of(Connector source, Connector target, Collection<TableJob> jobs) {
        whyNot(source, target).ifPresent(why -> {
            throw new IllegalStateException(why);
        });
        if (sameEngine(source, target)) {
            return new PairChecksums(source.checksums().orElseThrow(), target.checksums().orElseThrow(), true);
        }
        return new PairChecksums(canonical(source, jobs, true), canonical(target, jobs, false), false);
    }

    private static boolean sameEngine(Connector source, Connector target) {
        return source.name().equals(target.name()) && source.checksums().isPresent()
                && target.checksums().isPresent();
    }

    /**
     * Tandem's own checksums over one side's rows, normalised per column pair (both sides must encode a pair's
     * values alike, so the normalisations come from both tables' declared types).
     */
    private static Checksums canonical(Connector c, Collection<TableJob> jobs, boolean sourceSide) {
        RowReader reader = c.rowReader().orElseThrow();
        Map<TableRef, Map<String, CanonicalChecksums.Norm>> norms = new HashMap<>();
        for (TableJob job : jobs) {
            norms.put(sourceSide ? job.source().ref() : job.target().ref(),
                    CanonicalChecksums.norms(job.source(), job.target(), job.columns()));
        }
        return new CanonicalChecksums(reader, norms);
    }
}
