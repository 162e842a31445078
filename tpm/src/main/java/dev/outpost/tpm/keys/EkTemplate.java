package dev.outpost.tpm.keys;

import java.util.HexFormat;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmAlg;

/**
 * The TCG EK Credential Profile default templates we support, with where their certificate and persistent
 * handle conventionally live.
 */
public enum EkTemplate {
    /** Template L-1. */
    RSA_2048(0x01C00002, 0x81010001, false),
    /** Template L-2. */
    ECC_P256(0x01C0000A, 0x81010002, false),
    /** Template H-3 (high range), the ECC EK swtpm_setup makes. */
    ECC_P384(0x01C00016, 0x81010016, true);

    // PolicySecret(TPM_RH_ENDORSEMENT), the L-templates' policy.
    private static final byte[] POLICY_A_SHA256 =
            HexFormat.of().parseHex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");
    // PolicyOR of the high-range SHA-384 policies, the H-templates' authPolicy.
    private static final byte[] POLICY_B_SHA384 = HexFormat.of().parseHex(
            "b26e7d28d11a50bc53d882bcf5fd3a1a074148bb35d3b4e4cb1c0ad9bde419cacb47ba09699646150f9fc000f3f80e12");
    private static final int L_ATTRS = ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT
            | ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.ADMIN_WITH_POLICY
            | ObjectAttributes.RESTRICTED | ObjectAttributes.DECRYPT;
    private static final int H_ATTRS = L_ATTRS | ObjectAttributes.USER_WITH_AUTH;

    private final int certIndex;
    private final int persistentHandle;
    private final boolean highRange;

    EkTemplate(int certIndex, int persistentHandle, boolean highRange) {
        this.certIndex = certIndex;
        this.persistentHandle = persistentHandle;
        this.highRange = highRange;
    }

    public int keyType() {
        return this == RSA_2048 ? TpmAlg.RSA : TpmAlg.ECC;
    }

    /** TPM_ECC_CURVE, or 0 for RSA. */
    public int curve() {
        switch (this) {
            case ECC_P256: return TpmAlg.ECC_NIST_P256;
            case ECC_P384: return TpmAlg.ECC_NIST_P384;
            default: return 0;
        }
    }

    public HashAlg nameAlg() {
        return highRange ? HashAlg.SHA384 : HashAlg.SHA256;
    }

    public int attributes() {
        return highRange ? H_ATTRS : L_ATTRS;
    }

    public int certIndex() {
        return certIndex;
    }

    public int persistentHandle() {
        return persistentHandle;
    }

    public boolean highRange() {
        return highRange;
    }

    /** The marshalled TPMT_PUBLIC to pass to TPM2_CreatePrimary in the endorsement hierarchy. */
    public byte[] template() {
        switch (this) {
            case RSA_2048:
                return Templates.rsa(HashAlg.SHA256, L_ATTRS, POLICY_A_SHA256, 128, TpmAlg.NULL, null, 2048, 256);
            case ECC_P256:
                return Templates.ecc(HashAlg.SHA256, L_ATTRS, POLICY_A_SHA256, 128, TpmAlg.NULL, null,
                        TpmAlg.ECC_NIST_P256, 32);
            default:
                return Templates.ecc(HashAlg.SHA384, H_ATTRS, POLICY_B_SHA384, 256, TpmAlg.NULL, null,
                        TpmAlg.ECC_NIST_P384, 0);
        }
    }

    public static EkTemplate parse(String s) {
        switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "rsa": case "rsa2048": case "rsa_2048": return RSA_2048;
            case "ecc": case "ecc256": case "p256": case "ecc_p256": return ECC_P256;
            case "ecc384": case "p384": case "ecc_p384": return ECC_P384;
            default: throw new IllegalArgumentException("unknown EK type '" + s + "' (rsa2048, p256, p384)");
        }
    }
}
