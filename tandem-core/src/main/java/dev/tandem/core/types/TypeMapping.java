package dev.tandem.core.types;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a column type of one engine becomes a type of another, as data: an ordered table of rules in a resource (a
 * regular expression over the source's type, the target's type, and what is lossy or risky about it), read once.
 * The first rule whose expression matches the whole type wins. A rule may refuse a type (target {@code -}); a type
 * no rule matches is unknown. Both are said as such, never guessed.
 */
public final class TypeMapping {
    /** MySQL and MariaDB ({@code COLUMN_TYPE}) to PostgreSQL ({@code format_type}). */
    public static final TypeMapping MYSQL_TO_POSTGRESQL = load("mysql-to-postgresql.tsv");

    private final List<Rule> rules;

    private record Rule(Pattern source, String target, String note) {
    }

    /**
     * What a source type becomes.
     *
     * @param source  the source's type, as the source wrote it
     * @param target  the target's type, or null when the type is refused or unknown
     * @param note    what is lossy or risky (empty when every value arrives unchanged); for a refused or unknown
     *                type, why and what to do
     */
    public record Mapped(String source, String target, String note) {
        public boolean mapped() {
            return target != null;
        }
    }

    private TypeMapping(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public Mapped map(String sourceType) {
        String t = sourceType.trim().toLowerCase(Locale.ROOT);
        for (Rule r : rules) {
            Matcher m = r.source.matcher(t);
            if (m.matches()) {
                if (r.target.equals("-")) {
                    return new Mapped(sourceType, null, r.note);
                }
                String target = r.target;
                for (int g = m.groupCount(); g >= 1; g--) {
                    target = target.replace("$" + g, m.group(g) == null ? "" : m.group(g));
                }
                return new Mapped(sourceType, target, r.note);
            }
        }
        return new Mapped(sourceType, null, "no rule maps " + sourceType + "; leave the table out (scope.exclude) or "
                + "change the column's type");
    }

    private static TypeMapping load(String resource) {
        List<Rule> rules = new ArrayList<>();
        try (InputStream in = TypeMapping.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("type mapping " + resource + " is not on the class path");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\t", -1);
                if (f.length < 2) {
                    throw new IllegalStateException("type mapping " + resource + ": not a rule: " + line);
                }
                rules.add(new Rule(Pattern.compile(f[0]), f[1], f.length > 2 ? f[2] : ""));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TypeMapping(rules);
    }
}
