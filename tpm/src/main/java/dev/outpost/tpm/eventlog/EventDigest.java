package dev.outpost.tpm.eventlog;

import java.util.Optional;

import dev.outpost.tpm.HashAlg;

/** One digest of an event, by TPM_ALG_ID so algorithms this code does not know are kept, not lost. */
public record EventDigest(int algId, byte[] value) {
    public EventDigest {
        value = value.clone();
    }

    /** The algorithm, empty when the Spec ID event declared an id HashAlg does not know. */
    public Optional<HashAlg> alg() {
        return HashAlg.fromAlgId(algId);
    }

    @Override
    public byte[] value() {
        return value.clone();
    }

    /** Lowercase algorithm name, or the hex id for unknown algorithms. */
    public String algName() {
        return alg().map(HashAlg::tpmName).orElse(String.format("0x%04x", algId));
    }
}
