package dev.tandem.core.manifest;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** Suggests the closest known word for a mistyped one (edit distance, case-insensitive). */
public final class DidYouMean {
    private DidYouMean() {
    }

    public static Optional<String> closest(String typed, Collection<String> known) {
        String t = typed.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(t, k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        int allowed = Math.max(2, (int) Math.round(t.length() * 0.4));
        if (best != null && bestDistance <= allowed) {
            return Optional.of(best);
        }
        // A shortened name ('rollback' for rollback_all): the shortest known word it begins.
        return t.length() < 3 ? Optional.empty() : known.stream()
                .filter(k -> k.toLowerCase(Locale.ROOT).startsWith(t))
                .min(java.util.Comparator.comparingInt(String::length));
    }

    /** "did you mean x?" or, when nothing is close, the list of what is allowed. */
    public static String hint(String typed, Collection<String> known) {
        return closest(typed, known).map(k -> "did you mean " + k + "?")
                .orElse("expected one of " + String.join(", ", known));
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] swap = prev;
            prev = cur;
            cur = swap;
        }
        return prev[b.length()];
    }
}
