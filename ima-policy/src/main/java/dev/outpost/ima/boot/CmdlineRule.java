package dev.outpost.ima.boot;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An allowed kernel command line: a Java regex that must match the whole logged line. Compiled once, when the
 * policy is loaded, so a broken regex refuses the policy instead of failing attestations.
 */
public final class CmdlineRule {
    private final String regex;
    private final Pattern pattern;

    public CmdlineRule(String regex) {
        this.regex = regex;
        try {
            this.pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regex: " + e.getDescription(), e);
        }
    }

    /** A rule that allows exactly this line, as the generator records what it saw. */
    public static CmdlineRule exactly(String line) {
        return new CmdlineRule(Pattern.quote(line));
    }

    public String regex() {
        return regex;
    }

    /**
     * Full match within a budget of character reads: the line comes from the device, and a policy regex with
     * nested quantifiers must not let a crafted line burn a verifier thread. An exhausted budget is a non-match.
     */
    public boolean matches(String line, long budget) {
        try {
            return pattern.matcher(new BudgetedChars(line, new long[] {budget})).matches();
        } catch (BudgetedChars.Exhausted e) {
            return false;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CmdlineRule r && r.regex.equals(regex);
    }

    @Override
    public int hashCode() {
        return regex.hashCode();
    }

    @Override
    public String toString() {
        return regex;
    }
}
