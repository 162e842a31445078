package dev.outpost.tpm.jca;

import java.security.SignatureException;

import dev.outpost.tpm.wire.TpmtSignature;

/** Signs a SHA-256 digest with a key that never leaves its TPM (a TPM2_Sign). */
@FunctionalInterface
public interface DigestSigner {
    TpmtSignature sign(byte[] sha256Digest) throws SignatureException;
}
