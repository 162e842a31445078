package dev.outpost.tpm.wire;

/** TPM_ALG_ID values this module reads. */
public final class TpmAlg {
    public static final int RSA = 0x0001;
    public static final int KEYEDHASH = 0x0008;
    public static final int NULL = 0x0010;
    public static final int RSASSA = 0x0014;
    public static final int RSAPSS = 0x0016;
    public static final int ECDSA = 0x0018;
    public static final int ECC = 0x0023;
    public static final int SYMCIPHER = 0x0025;
    public static final int AES = 0x0006;
    public static final int CFB = 0x0043;

    public static final int ECC_NIST_P256 = 0x0003;
    public static final int ECC_NIST_P384 = 0x0004;
    public static final int ECC_NIST_P521 = 0x0005;

    private TpmAlg() {
    }
}
