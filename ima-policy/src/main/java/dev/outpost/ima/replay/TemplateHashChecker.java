package dev.outpost.ima.replay;

import java.security.MessageDigest;

import dev.outpost.ima.list.ImaEntry;
import dev.outpost.tpm.HashAlg;

/**
 * Checks that an entry's template hash is the hash of its template data. Violations carry an all-zero hash that
 * cannot be checked. A 32-byte hash column (ascii_runtime_measurements_sha256 or _sm3) is ambiguous; the first
 * checkable entry decides, and later entries must agree. Not thread-safe: one per verification.
 */
public final class TemplateHashChecker {
    private HashAlg alg;
    private HashAlg.Hasher hasher;

    /** @param alg the list's template-hash algorithm, or null to infer it from the hash length */
    public TemplateHashChecker(HashAlg alg) {
        setAlg(alg);
    }

    private void setAlg(HashAlg a) {
        this.alg = a;
        this.hasher = a == null ? null : a.newHasher();
    }

    /** The algorithm in use, null until inferred. */
    public HashAlg alg() {
        return alg;
    }

    /** True when the template hash verifies; violations return true (they are counted, not checked). */
    public boolean check(ImaEntry e) {
        byte[] logged = e.templateHash();
        if (e.isViolation()) {
            return true;
        }
        if (alg == null) {
            return infer(e);
        }
        if (logged.length != alg.digestSize()) {
            return false;
        }
        hasher.update(e.templateData(), 0, e.templateData().length);
        return MessageDigest.isEqual(hasher.digest(), logged);
    }

    private boolean infer(ImaEntry e) {
        for (HashAlg a : HashAlg.values()) {
            if (a.digestSize() == e.templateHash().length
                    && MessageDigest.isEqual(a.digest(e.templateData()), e.templateHash())) {
                setAlg(a);
                return true;
            }
        }
        return false;
    }
}
