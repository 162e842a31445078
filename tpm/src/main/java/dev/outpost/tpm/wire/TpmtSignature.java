package dev.outpost.tpm.wire;

import dev.outpost.tpm.HashAlg;

/** A parsed TPMT_SIGNATURE of the RSASSA, RSAPSS or ECDSA scheme. */
public record TpmtSignature(int sigAlg, HashAlg hash, byte[] rsaSignature, byte[] ecdsaR, byte[] ecdsaS) {
    private static final int MAX_RSA = 512;
    private static final int MAX_ECC = 66;

    public static TpmtSignature parse(byte[] bytes) throws TpmFormatException {
        TpmReader r = new TpmReader(bytes, "TPMT_SIGNATURE");
        int alg = r.u16("sigAlg");
        int hashId = r.u16("hash");
        HashAlg hash = HashAlg.fromAlgId(hashId)
                .orElseThrow(() -> r.error("unsupported signature hash 0x" + Integer.toHexString(hashId)));
        TpmtSignature s;
        if (alg == TpmAlg.RSASSA || alg == TpmAlg.RSAPSS) {
            s = new TpmtSignature(alg, hash, r.sized("sig", MAX_RSA), null, null);
        } else if (alg == TpmAlg.ECDSA) {
            byte[] sr = r.sized("signatureR", MAX_ECC);
            byte[] ss = r.sized("signatureS", MAX_ECC);
            s = new TpmtSignature(alg, hash, null, sr, ss);
        } else {
            throw r.error("unsupported signature scheme 0x" + Integer.toHexString(alg)
                    + " (RSASSA, RSAPSS and ECDSA only)");
        }
        r.expectEnd();
        return s;
    }

    public boolean isEcdsa() {
        return sigAlg == TpmAlg.ECDSA;
    }

    public String schemeName() {
        switch (sigAlg) {
            case TpmAlg.RSASSA: return "rsassa";
            case TpmAlg.RSAPSS: return "rsapss";
            default: return "ecdsa";
        }
    }
}
