package dev.tandem.core.manifest;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.util.List;

/** A manifest (or a request body) with one or more problems; all of them are here, never just the first. */
public class ManifestException extends TandemException {
    private final List<Problem> details;

    /** At most this many problems are listed; the rest are counted (50,000 unknown keys made a 45 MB answer). */
    static final int LISTED = 100;

    public ManifestException(String source, List<Problem> problems) {
        super(ErrorCode.BAD_INPUT, summary(source, capped(problems)),
                capped(problems).stream().map(Problem::message).toList(), null);
        this.details = List.copyOf(capped(problems));
    }

    private static List<Problem> capped(List<Problem> problems) {
        if (problems.size() <= LISTED) {
            return problems;
        }
        List<Problem> out = new java.util.ArrayList<>(problems.subList(0, LISTED));
        out.add(new Problem("", null, "and " + (problems.size() - LISTED) + " more problems, not listed",
                "fix the ones above first"));
        return out;
    }

    public List<Problem> details() {
        return details;
    }

    private static String summary(String source, List<Problem> problems) {
        StringBuilder b = new StringBuilder();
        b.append(source).append(" has ").append(problems.size()).append(problems.size() == 1 ? " problem:" : " problems:");
        for (Problem p : problems) {
            b.append("\n  - ").append(p.message());
        }
        return b.toString();
    }
}
