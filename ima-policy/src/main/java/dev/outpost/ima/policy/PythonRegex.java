package dev.outpost.ima.policy;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles Keylime's exclude regexes, written for Python's re module. The dialects agree on what exclude lists use
 * (anchors, classes, quantifiers, groups); Python's named-group syntax is rewritten to Java's.
 */
public final class PythonRegex {
    private PythonRegex() {
    }

    public static Pattern compile(String regex) {
        String java = regex.replace("(?P<", "(?<").replaceAll("\\(\\?P=(\\w+)\\)", "\\\\k<$1>");
        return Pattern.compile(java);
    }

    /** Null when valid, else the reason. */
    public static String check(String regex) {
        try {
            compile(regex);
            return null;
        } catch (PatternSyntaxException e) {
            return "invalid regular expression: " + e.getDescription() + " near index " + e.getIndex();
        }
    }
}
