package dev.tandem.core.plan;

import dev.tandem.core.manifest.DidYouMean;
import dev.tandem.core.manifest.Scope;
import dev.tandem.core.spi.Finding;
import dev.tandem.core.spi.TableRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns the manifest's scope into the list of source tables, against what the source really has. A listed table
 * that does not exist is an error with the closest existing name; a pattern that matches nothing is a warning.
 */
public final class ScopeResolver {
    private ScopeResolver() {
    }

    /** The tables in scope, and what was wrong. */
    public record Resolution(List<TableRef> tables, List<Finding> findings) {
    }

    public static Resolution resolve(Scope scope, List<TableRef> available, String defaultSchema) {
        return resolve(scope, available, defaultSchema, false);
    }

    /**
     * @param listsOnlyPrivileged the source shows a user only the tables it has privileges on (MySQL, MariaDB), so a
     *                            table "not found" may exist and be hidden
     */
    public static Resolution resolve(Scope scope, List<TableRef> available, String defaultSchema,
                                     boolean listsOnlyPrivileged) {
        List<Finding> findings = new ArrayList<>();
        TreeSet<TableRef> out = new TreeSet<>();
        Map<String, TableRef> byName = available.stream()
                .collect(Collectors.toMap(TableRef::qualified, Function.identity(), (a, b) -> a, TreeMap::new));
        if (scope.isExplicit()) {
            for (int i = 0; i < scope.tables().size(); i++) {
                String written = scope.tables().get(i);
                TableRef ref = TableRef.parse(written, defaultSchema);
                if (byName.containsKey(ref.qualified())) {
                    out.add(byName.get(ref.qualified()));
                    continue;
                }
                String at = "scope.tables[" + i + "]";
                Optional<TableRef> folded = available.stream()
                        .filter(t -> t.qualified().equalsIgnoreCase(ref.qualified())).findFirst();
                List<String> sameSchema = available.stream().filter(t -> t.schema().equals(ref.schema()))
                        .map(TableRef::name).toList();
                String suggestion = folded.map(TableRef::qualified)
                        .or(() -> DidYouMean.closest(ref.name(), sameSchema).map(n -> ref.schema() + "." + n))
                        .map(s -> "did you mean " + s + "?")
                        .orElse(listsOnlyPrivileged ? "check the name, or grant the source user SELECT on it: this "
                                + "server lists only the tables a user has privileges on"
                                : "check the name and the schema; schema " + ref.schema() + " has no table like it");
                findings.add(Finding.error("table_exists", ref.qualified(),
                        at + ": table " + ref.qualified() + " not found on source", suggestion));
            }
        } else {
            List<Pattern> include = scope.include().isEmpty() ? List.of(Pattern.compile(".*"))
                    : scope.include().stream().map(p -> glob(p)).toList();
            List<Pattern> exclude = scope.exclude().stream().map(p -> glob(p)).toList();
            for (TableRef t : available) {
                if (matchesAny(include, t) && !matchesAny(exclude, t)) {
                    out.add(t);
                }
            }
            for (int i = 0; i < scope.include().size(); i++) {
                Pattern p = include.get(i);
                if (available.stream().noneMatch(t -> matches(p, t))) {
                    findings.add(Finding.warning("scope_pattern", scope.include().get(i), "scope.include[" + i + "]: '"
                            + scope.include().get(i) + "' matches no table on source", "check the pattern"));
                }
            }
        }
        if (out.isEmpty() && findings.stream().noneMatch(Finding::isError)) {
            findings.add(Finding.error("scope", "scope", "no table on the source is in scope",
                    "check scope, and that the source user can see the tables (GRANT SELECT / USAGE on the schema)"));
        }
        return new Resolution(List.copyOf(out), findings);
    }

    /** {@code *} matches any run of characters; a pattern without a dot matches the table name in any schema. */
    private static Pattern glob(String pattern) {
        String p = pattern.contains(".") ? pattern : "*." + pattern;
        StringBuilder re = new StringBuilder();
        for (char c : p.toCharArray()) {
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }

    private static boolean matchesAny(List<Pattern> patterns, TableRef t) {
        return patterns.stream().anyMatch(p -> matches(p, t));
    }

    private static boolean matches(Pattern p, TableRef t) {
        return p.matcher(t.qualified()).matches()
                || p.matcher(t.qualified().toLowerCase(Locale.ROOT)).matches();
    }
}
