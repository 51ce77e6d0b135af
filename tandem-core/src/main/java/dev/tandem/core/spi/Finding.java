package dev.tandem.core.spi;

/**
 * The result of one preflight check. An {@code ERROR} blocks the migration; a {@code WARNING} does not but says what
 * will be worse; {@code OK} records a check that passed, so the report shows what was verified.
 *
 * @param check   a short stable name, e.g. {@code wal_level}, {@code replication_privilege}, {@code primary_key}
 * @param subject what the check is about: a table, a setting, the connection
 * @param message what was found, with the value (never a secret)
 * @param fix     what to do, with exact statements where there are any (GRANTs, settings); null for OK
 */
public record Finding(Severity severity, String check, String subject, String message, String fix) {

    public enum Severity {
        OK,
        WARNING,
        ERROR
    }

    public static Finding ok(String check, String subject, String message) {
        return new Finding(Severity.OK, check, subject, message, null);
    }

    public static Finding warning(String check, String subject, String message, String fix) {
        return new Finding(Severity.WARNING, check, subject, message, fix);
    }

    public static Finding error(String check, String subject, String message, String fix) {
        return new Finding(Severity.ERROR, check, subject, message, fix);
    }

    public boolean isError() {
        return severity == Severity.ERROR;
    }
}
