package dev.outpost.tpm.credential;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * What MakeCredential needs of an EK: its key, name algorithm and symmetric key size. From a TPMT_PUBLIC
 * these are read; from a bare public key (an EK certificate) they follow the TCG default templates.
 */
public record EkParameters(PublicKey key, HashAlg nameAlg, int symmetricBits) {

    public static EkParameters of(TpmPublic ek) {
        if (ek.symmetricBits() == 0) {
            throw new IllegalArgumentException("the EK has no symmetric definition: not a storage key");
        }
        return new EkParameters(ek.publicKey(), ek.nameAlg(), ek.symmetricBits());
    }

    /** Template L-1 for RSA 2048, L-2 for ECC P-256, H-3 for ECC P-384. */
    public static EkParameters ofDefaultTemplate(PublicKey key) {
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() != 2048) {
                throw new IllegalArgumentException("RSA EK of " + rsa.getModulus().bitLength()
                        + " bits has no default template: give its TPM2B_PUBLIC");
            }
            return new EkParameters(key, HashAlg.SHA256, 128);
        }
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits == 256) {
                return new EkParameters(key, HashAlg.SHA256, 128);
            }
            if (bits == 384) {
                return new EkParameters(key, HashAlg.SHA384, 256);
            }
            throw new IllegalArgumentException("ECC EK on a " + bits + "-bit curve has no default template");
        }
        throw new IllegalArgumentException("EK key type " + key.getAlgorithm() + " is not RSA or ECC");
    }
}
