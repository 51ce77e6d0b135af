package dev.tandem.postgres;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a target column can hold every value of a source column: the same type, or one that widens it without
 * changing any value (integer to bigint, varchar(50) to varchar(100) or text, numeric(10,2) to numeric(12,2)).
 * Anything that could round, truncate, reinterpret (timestamp to timestamptz) or normalise (json to jsonb) is not,
 * because verification would then find every such row different. Nor is real to double precision: the value
 * travels as text, and the double nearest to a real's shortest decimal is not the real's own value.
 */
final class PgTypes {
    private PgTypes() {
    }

    private static final Map<String, List<String>> WIDER = Map.of(
            "smallint", List.of("integer", "bigint", "numeric"),
            "integer", List.of("bigint", "numeric"),
            "bigint", List.of("numeric"));
    private static final Pattern VARCHAR = Pattern.compile("character varying(?:\\((\\d+)\\))?");
    private static final Pattern NUMERIC = Pattern.compile("numeric(?:\\((\\d+),(\\d+)\\))?");

    static boolean holds(String target, String source) {
        if (target.equals(source)) {
            return true;
        }
        if (WIDER.getOrDefault(source, List.of()).contains(target)) {
            return true;
        }
        Matcher sv = VARCHAR.matcher(source);
        if (sv.matches()) {
            if (target.equals("text")) {
                return true;
            }
            Matcher tv = VARCHAR.matcher(target);
            return tv.matches() && (tv.group(1) == null
                    || sv.group(1) != null && Integer.parseInt(tv.group(1)) >= Integer.parseInt(sv.group(1)));
        }
        Matcher sn = NUMERIC.matcher(source);
        Matcher tn = NUMERIC.matcher(target);
        if (sn.matches() && tn.matches()) {
            if (tn.group(1) == null) {
                return true;
            }
            return sn.group(1) != null && sn.group(2).equals(tn.group(2))
                    && Integer.parseInt(tn.group(1)) >= Integer.parseInt(sn.group(1));
        }
        return false;
    }
}
