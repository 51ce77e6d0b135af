package dev.tandem.core.error;

import java.util.List;

/**
 * The one exception type Tandem throws for anything an operator must act on. Its message names what was being done,
 * the value, the rule and the fix; {@link #problems()} holds every problem when several were found at once.
 * Messages never contain secrets: build them from redacted values only.
 */
public class TandemException extends RuntimeException {
    private final ErrorCode code;
    private final List<String> problems;

    public TandemException(ErrorCode code, String message) {
        this(code, message, List.of(), null);
    }

    public TandemException(ErrorCode code, String message, Throwable cause) {
        this(code, message, List.of(), cause);
    }

    public TandemException(ErrorCode code, String message, List<String> problems, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.problems = List.copyOf(problems);
    }

    public ErrorCode code() {
        return code;
    }

    /** Every problem found, one line each; empty when the message is the only one. */
    public List<String> problems() {
        return problems;
    }

    public static TandemException badInput(String message) {
        return new TandemException(ErrorCode.BAD_INPUT, message);
    }

    public static TandemException badState(String message) {
        return new TandemException(ErrorCode.BAD_STATE, message);
    }

    public static TandemException notFound(String message) {
        return new TandemException(ErrorCode.NOT_FOUND, message);
    }
}
