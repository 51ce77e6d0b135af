package dev.tandem.core.error;

/**
 * The class of a failure, which decides the CLI's exit code and the REST API's HTTP status. Every error that
 * leaves Tandem carries exactly one of these (pgcopydb's distinct exit codes, Flyway's ErrorCode).
 */
public enum ErrorCode {
    /** Source and target differ (verification found drift). */
    DRIFT_FOUND(1, 409),
    /** The input is wrong: a manifest, a flag, a request body. Fixing the input fixes the problem. */
    BAD_INPUT(2, 400),
    /** The named thing does not exist. Exits like bad input; answers 404. */
    NOT_FOUND(2, 404),
    /** The request is valid but not in the current state (an illegal lifecycle transition, a run still going). */
    BAD_STATE(3, 409),
    /** The source database is unreachable, refuses the credentials, or lacks a setting or privilege. */
    SOURCE(4, 502),
    /** The target database is unreachable, refuses the credentials, or lacks a setting or privilege. */
    TARGET(5, 502),
    /** The control store failed. */
    STORE(6, 500),
    /** A bug in Tandem. The message says what it was doing. */
    INTERNAL(70, 500);

    private final int exitCode;
    private final int httpStatus;

    ErrorCode(int exitCode, int httpStatus) {
        this.exitCode = exitCode;
        this.httpStatus = httpStatus;
    }

    public int exitCode() {
        return exitCode;
    }

    public int httpStatus() {
        return httpStatus;
    }
}
