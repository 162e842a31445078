package dev.outpost.tpm.keys;

import java.util.Locale;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmAlg;

/** Restricted signing attestation keys: the scheme is fixed in the key, so every quote uses it. */
public enum AkTemplate {
    RSA_2048,
    ECC_P256;

    public byte[] template() {
        int attrs = Templates.AK_REQUIRED | ObjectAttributes.USER_WITH_AUTH;
        if (this == RSA_2048) {
            return Templates.rsa(HashAlg.SHA256, attrs, new byte[0], 0, TpmAlg.RSASSA, HashAlg.SHA256, 2048, 0);
        }
        return Templates.ecc(HashAlg.SHA256, attrs, new byte[0], 0, TpmAlg.ECDSA, HashAlg.SHA256, TpmAlg.ECC_NIST_P256, 0);
    }

    public static AkTemplate parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "rsa": case "rsa2048": return RSA_2048;
            case "ecc": case "p256": case "ecc256": return ECC_P256;
            default: throw new IllegalArgumentException("unknown AK type '" + s + "' (rsa, ecc)");
        }
    }
}
