package dev.outpost.ima.verify;

import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.outpost.ima.policy.ExcludeMatcher;
import dev.outpost.ima.policy.PolicyDigest;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.ima.policy.VerificationKeys;
import dev.outpost.tpm.HashAlg;

/**
 * A runtime policy prepared for evaluation: digests decoded once into path → accepted digests (constant-time
 * lookup), excludes compiled, verification keys indexed by key id. Immutable and shareable across threads.
 *
 * <p>It keeps nothing of the {@link RuntimePolicy} it was built from: the model holds every digest as a hex String in
 * a map (~30 MB for 100,000 paths against ~10 MB for the index), and holding it here kept both alive for as long as
 * the compiled policy was cached or used.
 */
public final class CompiledPolicy {
    private final PathDigestIndex digests;
    private final Map<String, PolicyDigest[]> keyrings;
    private final Map<String, PolicyDigest[]> imaBuf;
    private final ExcludeMatcher excludes;
    private final List<VerificationKeys.Key> verificationKeys;
    private final Set<String> ignoredKeyrings;

    public CompiledPolicy(RuntimePolicy p) {
        this(p, PathDigestIndex.fromHex(p.digests()));
    }

    /**
     * Loads and compiles in one pass: the "digests" map goes from the JSON tokens into the index, never into the
     * model (see {@link RuntimePolicyJson#read(byte[], dev.outpost.ima.policy.DigestSink)}). Accepts and refuses
     * exactly what {@code new CompiledPolicy(loader.load(bytes))} does, signed policies included, with the same
     * messages.
     */
    public static CompiledPolicy load(PolicyLoader loader, byte[] bytes) {
        PathDigestIndex.Builder index = new PathDigestIndex.Builder(bytes.length);
        RuntimePolicy rest = loader.load(bytes, index);
        return new CompiledPolicy(rest, index.build());
    }

    public static CompiledPolicy load(PolicyLoader loader, java.nio.file.Path file) throws java.io.IOException {
        PathDigestIndex.Builder index = new PathDigestIndex.Builder(java.nio.file.Files.size(file));
        RuntimePolicy rest = loader.load(file, index);
        return new CompiledPolicy(rest, index.build());
    }

    /** @param p the policy's other members; its own digests map is ignored in favour of {@code digests} */
    private CompiledPolicy(RuntimePolicy p, PathDigestIndex digests) {
        this.digests = digests;
        this.keyrings = decode(p.keyrings());
        this.imaBuf = decode(p.imaBuf());
        this.excludes = new ExcludeMatcher(p.excludes());
        this.verificationKeys = p.verificationKeys().isEmpty() ? List.of()
                : VerificationKeys.parse(p.verificationKeys(), new RuntimePolicyJson()).values().stream()
                        .flatMap(List::stream)
                        .map(k -> new VerificationKeys.Key(k.key(), k.keyId() != null ? k.keyId() : KeyIds.keyIdV2(k.key())))
                        .toList();
        this.ignoredKeyrings = Set.copyOf(p.ima().ignoredKeyrings());
    }

    private static Map<String, PolicyDigest[]> decode(Map<String, List<String>> m) {
        Map<String, PolicyDigest[]> out = new HashMap<>(Math.max(16, m.size() * 4 / 3 + 1));
        m.forEach((k, v) -> out.put(k, v.stream().map(PolicyDigest::parse).toArray(PolicyDigest[]::new)));
        return out;
    }

    /** Bytes of the path index, the part that grows with the policy. */
    public long indexBytes() {
        return digests.sizeInBytes();
    }

    public boolean excluded(String path) {
        return excludes.excluded(path);
    }

    /** Outcome of looking up a measured file. */
    public enum Lookup { MATCH, NOT_LISTED, MISMATCH }

    /** The hot path: one index probe per file measurement. */
    public Lookup lookupFile(String path, HashAlg alg, byte[] digest) {
        int at = digests.find(path);
        if (at == PathDigestIndex.NOT_LISTED) {
            return Lookup.NOT_LISTED;
        }
        return digests.accepts(at, alg, digest) ? Lookup.MATCH : Lookup.MISMATCH;
    }

    public static Lookup lookup(PolicyDigest[] accepted, HashAlg alg, byte[] digest) {
        if (accepted == null) {
            return Lookup.NOT_LISTED;
        }
        return accepts(accepted, alg, digest) ? Lookup.MATCH : Lookup.MISMATCH;
    }

    public PolicyDigest[] keyringDigests(String keyring) {
        return keyrings.get(keyring);
    }

    public PolicyDigest[] imaBufDigests(String name) {
        return imaBuf.get(name);
    }

    public boolean keyringIgnored(String keyring) {
        return ignoredKeyrings.contains("*") || ignoredKeyrings.contains(keyring);
    }

    /** Trusted keys from the policy, each with its key id resolved. */
    public List<VerificationKeys.Key> verificationKeys() {
        return verificationKeys;
    }

    /** Any accepted digest equal to the measured one; a prefixed policy digest must also name the same algorithm. */
    public static boolean accepts(PolicyDigest[] accepted, HashAlg alg, byte[] digest) {
        for (PolicyDigest d : accepted) {
            if ((d.alg() == null || d.alg() == alg) && MessageDigest.isEqual(d.value(), digest)) {
                return true;
            }
        }
        return false;
    }
}
