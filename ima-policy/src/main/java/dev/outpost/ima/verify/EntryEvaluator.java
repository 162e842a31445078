package dev.outpost.ima.verify;

import java.security.MessageDigest;
import java.security.PublicKey;

import dev.outpost.ima.list.Hex;
import dev.outpost.ima.list.ImaEntry;
import dev.outpost.ima.policy.PolicyDigest;

/**
 * Keylime's per-entry rules. Excluded paths pass. File measurements (ima, ima-ng) must be listed with a matching
 * digest. ima-sig/ima-modsig pass on a valid v2 signature by a trusted key, else fall back to the digest list.
 * ima-buf keys must match the policy's keyrings digests and are then learned if measured onto .ima; other buffers
 * must match the ima-buf digests. Not thread-safe (it learns keys).
 */
public final class EntryEvaluator {
    /** The keyring whose keys the kernel appraises files with; keys measured elsewhere are not trusted for ima-sig. */
    public static final String IMA_KEYRING = ".ima";
    static final int MAX_LEARNED_KEYS = 1024;

    private final CompiledPolicy policy;
    private final Keyring keys;

    public EntryEvaluator(CompiledPolicy policy, Keyring keys) {
        this.policy = policy;
        this.keys = keys;
    }

    /** Null when the entry passes. */
    public ImaFailure evaluate(ImaEntry e) {
        if (policy.excluded(e.path())) {
            return null;
        }
        return switch (e.template()) {
            case IMA, IMA_NG -> file(e);
            case IMA_SIG, IMA_MODSIG -> signed(e);
            case IMA_BUF -> buffer(e);
        };
    }

    private ImaFailure file(ImaEntry e) {
        return outcome(e, policy.lookupFile(e.path(), e.digestAlg(), e.digest()), "file");
    }

    private ImaFailure listed(ImaEntry e, PolicyDigest[] accepted, String what) {
        return outcome(e, CompiledPolicy.lookup(accepted, e.digestAlg(), e.digest()), what);
    }

    private ImaFailure outcome(ImaEntry e, CompiledPolicy.Lookup l, String what) {
        return switch (l) {
            case MATCH -> null;
            case NOT_LISTED -> fail(e, "not_in_allowlist", what + " not found in runtime policy: " + e.path());
            case MISMATCH -> fail(e, "runtime_policy_hash", "hash not found in runtime policy: got "
                    + e.digestAlg() + ":" + Hex.encode(e.digest()));
        };
    }

    private ImaFailure signed(ImaEntry e) {
        String why = null;
        if (e.signature() != null) {
            String[] reason = new String[1];
            ImaSignature sig = ImaSignature.parse(e.signature(), reason);
            if (sig == null) {
                why = reason[0];
            } else if (sig.hashAlg() != e.digestAlg()) {
                why = "signature hash " + sig.hashAlg() + " differs from the measured " + e.digestAlg();
            } else {
                why = verifies(sig, e.digest());
                if (why == null) {
                    return null;
                }
            }
        }
        ImaFailure byList = file(e);
        if (byList == null || why == null) {
            return byList;
        }
        return fail(e, "invalid_signature", "signature for " + e.path() + " could not be validated (" + why
                + ") and " + byList.message());
    }

    private String verifies(ImaSignature sig, byte[] digest) {
        String keyId = String.format("%08x", sig.keyId());
        var candidates = new java.util.ArrayList<PublicKey>(keys.candidates(sig.keyId()));
        for (var k : policy.verificationKeys()) {
            if (k.keyId() == sig.keyId()) {
                candidates.add(k.key());
            }
        }
        if (candidates.isEmpty()) {
            return "no trusted key with id " + keyId;
        }
        for (PublicKey k : candidates) {
            if (sig.verify(k, digest)) {
                return null;
            }
        }
        return "bad signature by key " + keyId;
    }

    private ImaFailure buffer(ImaEntry e) {
        if (!MessageDigest.isEqual(e.digestAlg().digest(e.buffer()), e.digest())) {
            return fail(e, "buffer_digest", "buffer does not hash to its logged digest");
        }
        MeasuredKey key = MeasuredKey.parseOrNull(e.buffer());
        if (key == null) {
            return listed(e, policy.imaBufDigests(e.path()), "ima-buf");
        }
        if (policy.keyringIgnored(e.path())) {
            return null;
        }
        ImaFailure f = listed(e, policy.keyringDigests(e.path()), "keyring");
        if (f != null) {
            return f;
        }
        if (IMA_KEYRING.equals(e.path())) {
            if (keys.learned().size() >= MAX_LEARNED_KEYS) {
                return fail(e, "too_many_keys", "more than " + MAX_LEARNED_KEYS + " keys measured onto .ima");
            }
            keys.addLearned(e.index(), key);
        }
        return null;
    }

    private static ImaFailure fail(ImaEntry e, String reason, String message) {
        return new ImaFailure(e.index(), e.path(), e.template().templateName(), EventIds.validation(e.template(),
                reason), message);
    }
}
