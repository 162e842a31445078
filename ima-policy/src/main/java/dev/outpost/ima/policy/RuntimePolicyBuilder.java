package dev.outpost.ima.policy;

import java.io.IOException;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.tpm.HashAlg;

/**
 * Collects the digests of a known-good system into a runtime policy, as Keylime's "create runtime" does: file
 * digests from an IMA list and/or a hashed root file system, keys measured onto keyrings, other ima-buf buffers.
 * All file digests must share one algorithm (Keylime refuses mixed sources), so the policy is unambiguous.
 */
public final class RuntimePolicyBuilder {
    private final Map<String, List<String>> digests = new LinkedHashMap<>();
    private final Map<String, List<String>> keyrings = new LinkedHashMap<>();
    private final Map<String, List<String>> imaBuf = new LinkedHashMap<>();
    private final List<String> excludes;
    private final ExcludeMatcher excluded;
    private HashAlg alg;

    public RuntimePolicyBuilder(List<String> excludes, HashAlg alg) {
        for (String e : excludes) {
            String bad = PythonRegex.check(e);
            if (bad != null) {
                throw new PolicyException("exclude '" + e + "': " + bad);
            }
        }
        this.excludes = List.copyOf(excludes);
        this.excluded = new ExcludeMatcher(excludes);
        this.alg = alg;
    }

    public HashAlg alg() {
        return alg;
    }

    public boolean isExcluded(String path) {
        return excluded.excluded(path);
    }

    /** Adds every measurement of a list; violations carry no digest and are skipped. Returns the count added. */
    public long addImaList(ImaEntryReader r) throws IOException {
        long n = 0;
        for (ImaEntry e = r.next(); e != null; e = r.next()) {
            if (e.isViolation() || isExcluded(e.path())) {
                continue;
            }
            if (e.buffer() != null) {
                boolean key = PublicKeys.fromDerOrNull(e.buffer()) != null;
                add(key ? keyrings : imaBuf, e.path(), Hex.encode(e.digest()));
            } else {
                if (!e.path().equals("boot_aggregate")) {
                    setAlg(e.digestAlg(), "IMA measurement list");
                }
                add(digests, e.path(), Hex.encode(e.digest()));
            }
            n++;
        }
        return n;
    }

    /** Adds a file digest computed by the caller with {@link #alg()}. */
    public void addFile(String path, byte[] digest) {
        if (alg == null || digest.length != alg.digestSize()) {
            throw new IllegalStateException("file digest does not match the policy algorithm");
        }
        add(digests, path, Hex.encode(digest));
    }

    private void setAlg(HashAlg a, String source) {
        if (alg == null) {
            alg = a;
        } else if (alg != a) {
            throw new PolicyException("The digest algorithm in the " + source + " (" + a
                    + ") does not match the previously set '" + alg + "' algorithm");
        }
    }

    private static void add(Map<String, List<String>> m, String path, String hex) {
        List<String> l = m.computeIfAbsent(path, k -> new ArrayList<>(1));
        if (!l.contains(hex)) {
            l.add(hex);
        }
    }

    public RuntimePolicy build() {
        String ts = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
        return new RuntimePolicy(RuntimePolicy.VERSION, LegacyAllowlist.GENERATOR_LEGACY, ts, 0, digests, excludes,
                keyrings, ImaSettings.DEFAULT, imaBuf, "");
    }
}
