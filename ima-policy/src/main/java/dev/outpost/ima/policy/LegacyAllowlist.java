package dev.outpost.ima.policy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts Keylime's flat allow-list ({@code <digest> <path>} lines as sha256sum writes them, with
 * {@code %keyring:<name>} paths for keys) and exclude-list (one regex a line) into a runtime policy. Unlike Keylime,
 * which logs and skips a line it cannot split, a malformed line is an error naming its number: a silently dropped
 * entry would surface later as a confusing attestation failure.
 */
public final class LegacyAllowlist {
    /** RUNTIME_POLICY_GENERATOR.LegacyAllowList. */
    public static final int GENERATOR_LEGACY = 3;
    private static final String KEYRING = "%keyring:";
    private static final int MAX_LINE = 64 * 1024;

    private LegacyAllowlist() {
    }

    public static RuntimePolicy convert(Reader allowlist, Reader excludelist, PolicyLimits limits)
            throws IOException {
        Map<String, List<String>> digests = new LinkedHashMap<>();
        Map<String, List<String>> keyrings = new LinkedHashMap<>();
        String[] reason = new String[1];
        int entries = 0;
        int lineNo = 0;
        BufferedReader r = new BufferedReader(allowlist);
        for (String line; (line = readLine(r, lineNo + 1, "allowlist")) != null;) {
            lineNo++;
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                continue;
            }
            String[] parts = s.split("\\s+", 2);
            if (parts.length != 2) {
                throw new PolicyException("allowlist line " + lineNo + ": expected '<digest> <path>'");
            }
            if (PolicyDigest.parse(parts[0], reason) == null) {
                throw new PolicyException("allowlist line " + lineNo + ": " + reason[0] + " found in the allowlist");
            }
            if (++entries > limits.maxEntries()) {
                throw new PolicyException("allowlist line " + lineNo + ": too many entries");
            }
            String path = parts[1];
            Map<String, List<String>> target = digests;
            if (path.startsWith(KEYRING)) {
                target = keyrings;
                path = path.substring(KEYRING.length());
            }
            List<String> list = target.computeIfAbsent(path, k -> new ArrayList<>(1));
            if (!list.contains(parts[0])) {
                list.add(parts[0]);
            }
        }
        List<String> excludes = excludelist == null ? List.of() : readExcludes(excludelist);
        return new RuntimePolicy(RuntimePolicy.VERSION, GENERATOR_LEGACY, null, 0, digests, excludes, keyrings,
                ImaSettings.DEFAULT, Map.of(), "");
    }

    /** One regex a line; blank lines and lines starting with '#' are comments. */
    public static List<String> readExcludes(Reader in) throws IOException {
        List<String> out = new ArrayList<>();
        BufferedReader r = new BufferedReader(in);
        int lineNo = 0;
        for (String line; (line = readLine(r, lineNo + 1, "exclude list")) != null;) {
            lineNo++;
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                continue;
            }
            String bad = PythonRegex.check(s);
            if (bad != null) {
                throw new PolicyException("exclude list line " + lineNo + ": " + bad);
            }
            out.add(s);
        }
        return out;
    }

    private static String readLine(BufferedReader r, int lineNo, String what) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = r.read()) >= 0 && c != '\n') {
            if (sb.length() >= MAX_LINE) {
                throw new PolicyException(what + " line " + lineNo + ": longer than " + MAX_LINE + " characters");
            }
            sb.append((char) c);
        }
        return c < 0 && sb.length() == 0 ? null : sb.toString();
    }
}
