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
 * <p>A rule may also list the other types a user may choose for such a column ({@code schema.columns}): each reads
 * the text the copy and the stream write (a {@code tinyint(1)} is written as its digits, which a boolean and a
 * smallint both read; a {@code set} as an array only into a {@code text[]}, else as MySQL prints it). A type outside
 * that list is refused, naming the list.
 */
public final class TypeMapping {
    /** MySQL and MariaDB ({@code COLUMN_TYPE}) to PostgreSQL ({@code format_type}). */
    public static final TypeMapping MYSQL_TO_POSTGRESQL = load("mysql-to-postgresql.tsv");

    private final List<Rule> rules;

    private record Rule(Pattern source, String target, String note, List<String> alternatives) {
    }

    /** How users write some PostgreSQL types, as {@code format_type} writes them. */
    private static final List<String[]> ALIASES = List.of(new String[] {"int2", "smallint"},
            new String[] {"int4", "integer"}, new String[] {"int", "integer"}, new String[] {"int8", "bigint"},
            new String[] {"bool", "boolean"}, new String[] {"float4", "real"},
            new String[] {"float8", "double precision"}, new String[] {"double", "double precision"});
    private static final Pattern VARCHAR = Pattern.compile("varchar\\((\\d+)\\)");
    private static final Pattern CHAR = Pattern.compile("(?:char|character|bpchar)\\((\\d+)\\)");

    /**
     * What a source type becomes.
     *
     * @param source  the source's type, as the source wrote it
     * @param target  the target's type, or null when the type is refused or unknown
     * @param note    what is lossy or risky (empty when every value arrives unchanged); for a refused or unknown
     *                type, or a choice outside the rule's, why and what to do
     * @param chosen  the target was chosen in the manifest ({@code schema.columns}), not given by the rule
     * @param choices the types the column may be made as: the rule's first, then its alternatives
     */
    public record Mapped(String source, String target, String note, boolean chosen, List<String> choices) {
        public Mapped {
            choices = List.copyOf(choices);
        }

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
                    return new Mapped(sourceType, null, r.note, false, List.of());
                }
                List<String> choices = new ArrayList<>();
                choices.add(substitute(r.target, m));
                r.alternatives.forEach(a -> choices.add(substitute(a, m)));
                return new Mapped(sourceType, choices.get(0), r.note, false, choices);
            }
        }
        return new Mapped(sourceType, null, "no rule maps " + sourceType + "; leave the table out (scope.exclude) or "
                + "change the column's type", false, List.of());
    }

    /**
     * What a source type becomes when the manifest chose {@code chosen} for the column ({@code schema.columns}):
     * the chosen type when the rule lists it (as {@code format_type} writes it, whatever alias was written), else
     * not mapped, with the choices in the note. Null {@code chosen}: {@link #map(String)}.
     */
    public Mapped map(String sourceType, String chosen) {
        Mapped rule = map(sourceType);
        if (chosen == null || !rule.mapped()) {
            return rule;
        }
        String wanted = canonical(chosen);
        if (!rule.choices().contains(wanted)) {
            return new Mapped(sourceType, null, "a " + sourceType + " column may be made as " + String.join(", ",
                    rule.choices()) + ", not " + chosen + " (each of those reads the values as they are written)",
                    true, rule.choices());
        }
        return new Mapped(sourceType, wanted, wanted.equals(rule.target()) ? rule.note() : "", true, rule.choices());
    }

    /** A PostgreSQL type as {@code format_type} writes it: lower case, single spaces, common aliases spelled out. */
    static String canonical(String type) {
        String t = type.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").replaceAll(" ?\\( ?", "(")
                .replaceAll(" ?, ?", ",").replaceAll(" ?\\)", ")");
        for (String[] a : ALIASES) {
            if (t.equals(a[0])) {
                return a[1];
            }
        }
        Matcher v = VARCHAR.matcher(t);
        if (v.matches()) {
            return "character varying(" + v.group(1) + ")";
        }
        Matcher c = CHAR.matcher(t);
        if (c.matches()) {
            return "character(" + c.group(1) + ")";
        }
        return t;
    }

    private static String substitute(String target, Matcher m) {
        for (int g = m.groupCount(); g >= 1; g--) {
            target = target.replace("$" + g, m.group(g) == null ? "" : m.group(g));
        }
        return target;
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
                List<String> alternatives = f.length > 3 && !f[3].isBlank() ? List.of(f[3].split("\\|")) : List.of();
                rules.add(new Rule(Pattern.compile(f[0]), f[1], f.length > 2 ? f[2] : "", alternatives));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TypeMapping(rules);
    }
}
