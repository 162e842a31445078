package dev.outpost.ima.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;


/**
 * Keylime's excludes: any regex matching at the start of the path (Python's re.match) excludes it. Regexes with a
 * literal prefix are only run when the path starts with that prefix, so typical lists (/tmp/.*, /var/log/...) cost a
 * few startsWith calls per entry; the rest are joined into one alternation, as Keylime does.
 */
public final class ExcludeMatcher {
    private final String[] prefixes;
    private final Pattern[] prefixed;
    private final Pattern rest;

    public ExcludeMatcher(List<String> regexes) {
        List<String> pre = new ArrayList<>();
        List<Pattern> pats = new ArrayList<>();
        List<String> others = new ArrayList<>();
        for (String r : regexes) {
            String p = literalPrefix(r);
            if (p.isEmpty()) {
                others.add(r);
            } else {
                pre.add(p);
                pats.add(PythonRegex.compile(r));
            }
        }
        prefixes = pre.toArray(String[]::new);
        prefixed = pats.toArray(Pattern[]::new);
        rest = others.isEmpty() ? null : PythonRegex.compile("(?:" + String.join(")|(?:", others) + ")");
    }

    /**
     * Paths come from the device, so a backtracking-prone regex could be driven into exponential time. Each match
     * gets a budget of character reads; a match that exhausts it counts as "not excluded", which fails closed: the
     * entry is then judged against the digests.
     */
    public boolean excluded(String path) {
        try {
            for (int i = 0; i < prefixes.length; i++) {
                if (path.startsWith(prefixes[i]) && prefixed[i].matcher(new Budgeted(path)).lookingAt()) {
                    return true;
                }
            }
            return rest != null && rest.matcher(new Budgeted(path)).lookingAt();
        } catch (BudgetExceeded e) {
            return false;
        }
    }

    static final int MATCH_BUDGET = 1_000_000;

    private static final class BudgetExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BudgetExceeded() {
            super(null, null, false, false);
        }
    }

    /** A CharSequence that stops a regex engine after {@link #MATCH_BUDGET} character reads. */
    private static final class Budgeted implements CharSequence {
        private final String s;
        private int left = MATCH_BUDGET;

        Budgeted(String s) {
            this.s = s;
        }

        @Override
        public char charAt(int i) {
            if (--left < 0) {
                throw new BudgetExceeded();
            }
            return s.charAt(i);
        }

        @Override
        public int length() {
            return s.length();
        }

        @Override
        public CharSequence subSequence(int a, int b) {
            return s.subSequence(a, b);
        }

        @Override
        public String toString() {
            return s;
        }
    }

    /**
     * The literal text every match must start with, or "" when there is none we can prove (alternation, flags,
     * classes, or an optional first character).
     */
    public static String literalPrefix(String regex) {
        if (regex.indexOf('|') >= 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int i = regex.startsWith("^") ? 1 : 0;
        while (i < regex.length()) {
            char c = regex.charAt(i);
            if (c == '\\') {
                if (i + 1 >= regex.length() || Character.isLetterOrDigit(regex.charAt(i + 1))) {
                    break;
                }
                sb.append(regex.charAt(i + 1));
                i += 2;
            } else if (".[](){}*+?^$".indexOf(c) >= 0) {
                break;
            } else {
                sb.append(c);
                i++;
            }
            // A quantifier that allows zero repetitions makes the character just taken optional.
            if (i < regex.length() && "*?{".indexOf(regex.charAt(i)) >= 0) {
                sb.setLength(sb.length() - 1);
                break;
            }
        }
        return sb.toString();
    }
}
