package dev.tandem.core.manifest;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** JDBC URL helpers that keep secrets out of output. */
public final class JdbcUrls {
    private JdbcUrls() {
    }

    private static final Pattern SECRET_PARAM = Pattern.compile(
            "((?:password|passwd|pwd|sslpassword|secret|token|accesskey|secretkey)=)([^&;]*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern USERINFO = Pattern.compile("(//[^/@:]*:)([^@/]*)(@)");

    /** The URL with every password-like parameter and any user:password@ part replaced by {@value Secret#REDACTED}. */
    public static String redact(String url) {
        if (url == null) {
            return null;
        }
        String out = SECRET_PARAM.matcher(url).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + Secret.REDACTED));
        return USERINFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + Secret.REDACTED + m.group(3)));
    }

    /** "postgresql", "mariadb", "mysql", ... : the part after {@code jdbc:}, or null when this is no JDBC URL. */
    public static String subprotocol(String url) {
        if (url == null || !url.regionMatches(true, 0, "jdbc:", 0, 5)) {
            return null;
        }
        int end = url.indexOf(':', 5);
        return end < 0 ? null : url.substring(5, end).toLowerCase(Locale.ROOT);
    }
}
