package dev.tandem.core.manifest;

import dev.tandem.core.error.ErrorCode;
import dev.tandem.core.error.TandemException;
import java.util.List;

/** A manifest (or a request body) with one or more problems; all of them are here, never just the first. */
public class ManifestException extends TandemException {
    private final List<Problem> details;

    public ManifestException(String source, List<Problem> problems) {
        super(ErrorCode.BAD_INPUT, summary(source, problems), problems.stream().map(Problem::message).toList(), null);
        this.details = List.copyOf(problems);
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
