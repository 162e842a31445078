package dev.outpost.tpm.keys;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmWriter;

/** Marshals TPMT_PUBLIC templates; the EK and AK templates are built from these pieces. */
public final class Templates {
    private Templates() {
    }

    static byte[] rsa(HashAlg nameAlg, int attributes, byte[] policy, int symBits, int scheme, HashAlg schemeHash,
            int keyBits, int uniqueBytes) {
        TpmWriter w = new TpmWriter().u16(TpmAlg.RSA).u16(nameAlg.algId()).u32(attributes).sized(policy);
        symmetric(w, symBits);
        scheme(w, scheme, schemeHash);
        return w.u16(keyBits).u32(0).sized(new byte[uniqueBytes]).toBytes();
    }

    static byte[] ecc(HashAlg nameAlg, int attributes, byte[] policy, int symBits, int scheme, HashAlg schemeHash,
            int curve, int uniqueBytes) {
        TpmWriter w = new TpmWriter().u16(TpmAlg.ECC).u16(nameAlg.algId()).u32(attributes).sized(policy);
        symmetric(w, symBits);
        scheme(w, scheme, schemeHash);
        return w.u16(curve).u16(TpmAlg.NULL).sized(new byte[uniqueBytes]).sized(new byte[uniqueBytes]).toBytes();
    }

    private static void symmetric(TpmWriter w, int bits) {
        if (bits == 0) {
            w.u16(TpmAlg.NULL);
        } else {
            w.u16(TpmAlg.AES).u16(bits).u16(TpmAlg.CFB);
        }
    }

    private static void scheme(TpmWriter w, int scheme, HashAlg hash) {
        w.u16(scheme);
        if (scheme != TpmAlg.NULL) {
            w.u16(hash.algId());
        }
    }

    /** The attributes every attestation key must have, and the one it must not. */
    public static final int AK_REQUIRED = ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT
            | ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.RESTRICTED | ObjectAttributes.SIGN;
    public static final int AK_FORBIDDEN = ObjectAttributes.DECRYPT;

    /**
     * The attributes a node key (the key an X509-SVID certifies) must have: created in the TPM, never leaving it,
     * a plain signing key; and the ones it must not: a decryption key or a restricted key is the wrong kind of key.
     * userWithAuth and noDA are the agent's choice and not checked.
     */
    public static final int NODE_KEY_REQUIRED = ObjectAttributes.FIXED_TPM | ObjectAttributes.FIXED_PARENT
            | ObjectAttributes.SENSITIVE_DATA_ORIGIN | ObjectAttributes.SIGN;
    public static final int NODE_KEY_FORBIDDEN = ObjectAttributes.DECRYPT | ObjectAttributes.RESTRICTED;
}
