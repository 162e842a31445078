package dev.outpost.tpm.jca;

import java.security.SignatureException;

import dev.outpost.tpm.wire.TpmtSignature;

/** Signs a SHA-256 digest with a key that never leaves its TPM (a TPM2_Sign). */
@FunctionalInterface
public interface DigestSigner {
    /**
     * @param sigAlg the TPM signature scheme: {@code TpmAlg.ECDSA} for an ECC key; {@code TpmAlg.RSASSA} or
     *               {@code TpmAlg.RSAPSS} for an RSA key
     */
    TpmtSignature sign(byte[] sha256Digest, int sigAlg) throws SignatureException;
}
