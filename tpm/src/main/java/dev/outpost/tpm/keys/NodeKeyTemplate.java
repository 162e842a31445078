package dev.outpost.tpm.keys;

import java.util.Locale;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmAlg;

/**
 * Node keys: unrestricted signing keys created in the TPM under the storage parent, which the AK certifies. ECC P-256
 * signs with ECDSA/SHA-256 (its scheme is fixed in the key); the RSA key leaves the scheme open, so the one key signs
 * RSASSA (CSRs, TLS 1.2) and RSA-PSS (TLS 1.3).
 */
public enum NodeKeyTemplate {
    ECC_P256,
    RSA_2048;

    static final int ATTRIBUTES = Templates.NODE_KEY_REQUIRED | ObjectAttributes.USER_WITH_AUTH | ObjectAttributes.NO_DA;

    public byte[] template() {
        return template(ATTRIBUTES);
    }

    /** The template with other attributes: for tests that need a key the appliance must refuse. */
    public byte[] template(int attributes) {
        if (this == RSA_2048) {
            return Templates.rsa(HashAlg.SHA256, attributes, new byte[0], 0, TpmAlg.NULL, null, 2048, 0);
        }
        boolean decrypt = (attributes & ObjectAttributes.DECRYPT) != 0;
        // A key that also decrypts may not have a signing scheme fixed in it.
        return Templates.ecc(HashAlg.SHA256, attributes, new byte[0], 0, decrypt ? TpmAlg.NULL : TpmAlg.ECDSA,
                HashAlg.SHA256, TpmAlg.ECC_NIST_P256, 0);
    }

    public static NodeKeyTemplate parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "ecc": case "p256": case "ecc256": return ECC_P256;
            case "rsa": case "rsa2048": return RSA_2048;
            default: throw new IllegalArgumentException("unknown node key type '" + s + "' (ecc, rsa)");
        }
    }
}
