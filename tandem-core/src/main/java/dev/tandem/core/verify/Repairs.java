package dev.tandem.core.verify;

import dev.tandem.core.manifest.Engine;
import java.util.Optional;

/**
 * Where drift can be repaired (copied again from the source: {@code validation.repair}, {@code tandem verify
 * --repair}), the one answer plan, migrate, verify and a PATCH of a running migration share.
 * <p>Hazard: a repair writes the row's values as the comparison read them. Across engines those are the canonical
 * texts of {@link CanonicalChecksums}, made to be read back by PostgreSQL; MySQL keeps them differently (tried in
 * MariaDbToMariaDbIT: a {@code tinyint(1)} holding 5 came back 1, JSON text came back re-serialised), so a repair
 * into MySQL/MariaDB would write different rows and call them repaired.
 */
public final class Repairs {
    private Repairs() {
    }

    /** Why drift on a target of {@code engine} is not repaired, or empty when it is. */
    public static Optional<String> whyNot(Engine engine) {
        if (engine != null && engine.mysqlFamily()) {
            return Optional.of("repairing drift on " + engine.wire() + " is not built yet: a repair writes "
                    + "the values as the comparison normalised them, which MySQL would keep differently (a "
                    + "tinyint(1) holding 5 became 1, JSON text was re-serialised)");
        }
        return Optional.empty();
    }

    /** The way out, for the refusal of {@link #whyNot}. */
    public static final String FIX = "set validation.repair: false (tandem verify without --repair): drift is still "
            + "found and listed by key (GET /drift, tandem verify), and can be copied again by hand";
}
