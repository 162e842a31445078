package dev.outpost.ima.policy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Keylime runtime policy (meta.version 1). Digest strings are lowercase hex, optionally prefixed with
 * "{@code <alg>:}" (Keylime's legacy allowlists write boot_aggregate that way). Immutable.
 *
 * @param generator        Keylime's RUNTIME_POLICY_GENERATOR: 0 unknown, 1 empty, 2 compatible, 3 legacy allowlist
 * @param timestamp        free text, may be null
 * @param release          Keylime's release counter
 * @param digests          path → accepted digests
 * @param excludes         Python-style regexes, matched at the start of the path
 * @param keyrings         keyring name → accepted digests of keys measured onto it (ima-buf)
 * @param imaBuf           ima-buf name → accepted buffer digests
 * @param verificationKeys Keylime's JSON-in-a-string keyring document, "" when none
 */
public record RuntimePolicy(int version, int generator, String timestamp, long release,
        Map<String, List<String>> digests, List<String> excludes, Map<String, List<String>> keyrings,
        ImaSettings ima, Map<String, List<String>> imaBuf, String verificationKeys) {

    public static final int VERSION = 1;

    public RuntimePolicy {
        digests = freeze(digests);
        excludes = List.copyOf(excludes);
        keyrings = freeze(keyrings);
        imaBuf = freeze(imaBuf);
    }

    private static Map<String, List<String>> freeze(Map<String, List<String>> m) {
        Map<String, List<String>> out = new LinkedHashMap<>(Math.max(16, m.size() * 4 / 3 + 1));
        m.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return Collections.unmodifiableMap(out);
    }

    public static RuntimePolicy empty(int generator) {
        return new RuntimePolicy(VERSION, generator, null, 0, Map.of(), List.of(), Map.of(), ImaSettings.DEFAULT,
                Map.of(), "");
    }
}
