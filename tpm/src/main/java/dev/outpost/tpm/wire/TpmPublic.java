package dev.outpost.tpm.wire;

import java.math.BigInteger;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;

import dev.outpost.tpm.HashAlg;

/**
 * A parsed TPMT_PUBLIC of an RSA or ECC key: what verification needs (key, name algorithm, attributes,
 * signing scheme) plus the exact bytes, from which the TPM Name is computed.
 */
public final class TpmPublic {
    private static final int MAX_KEY_BYTES = 1024;
    private static final int MAX_POLICY_BYTES = 64;

    private final byte[] encoded;
    private final int type;
    private final HashAlg nameAlg;
    private final int attributes;
    private final byte[] authPolicy;
    private final int schemeAlg;
    private final int schemeHashAlg;
    private final int curve;
    private final int symmetricBits;
    private final PublicKey key;

    private TpmPublic(byte[] encoded, int type, HashAlg nameAlg, int attributes, byte[] authPolicy, int schemeAlg,
            int schemeHashAlg, int curve, int symmetricBits, PublicKey key) {
        this.encoded = encoded;
        this.type = type;
        this.nameAlg = nameAlg;
        this.attributes = attributes;
        this.authPolicy = authPolicy;
        this.schemeAlg = schemeAlg;
        this.schemeHashAlg = schemeHashAlg;
        this.curve = curve;
        this.symmetricBits = symmetricBits;
        this.key = key;
    }

    /** Parses a TPM2B_PUBLIC (u16 size, then TPMT_PUBLIC), as tpm2-tools writes {@code ak.pub}. */
    public static TpmPublic parseSized(byte[] tpm2b) throws TpmFormatException {
        TpmReader r = new TpmReader(tpm2b, "TPM2B_PUBLIC");
        int size = r.u16("size");
        TpmPublic p = parse(r.bytes(size, "publicArea"));
        r.expectEnd();
        return p;
    }

    /** Parses a bare TPMT_PUBLIC. */
    public static TpmPublic parse(byte[] tpmt) throws TpmFormatException {
        TpmReader r = new TpmReader(tpmt, "TPMT_PUBLIC");
        int type = r.u16("type");
        int nameAlgId = r.u16("nameAlg");
        HashAlg nameAlg = HashAlg.fromAlgId(nameAlgId)
                .orElseThrow(() -> r.error("unsupported nameAlg 0x" + Integer.toHexString(nameAlgId)));
        int attributes = r.u32("objectAttributes");
        byte[] authPolicy = r.sized("authPolicy", MAX_POLICY_BYTES);
        int symBits = readSymmetric(r);
        int scheme = r.u16("scheme");
        int schemeHash = TpmAlg.NULL;
        if (scheme != TpmAlg.NULL) {
            schemeHash = r.u16("scheme.hashAlg");
            if (scheme == 0x001A) { // ECDAA carries a count as well
                r.u16("scheme.count");
            }
        }
        PublicKey key;
        int curve = 0;
        try {
            if (type == TpmAlg.RSA) {
                int keyBits = r.u16("keyBits");
                long exponent = r.u32("exponent") & 0xFFFFFFFFL;
                byte[] modulus = r.sized("unique.rsa", MAX_KEY_BYTES);
                if (modulus.length * 8 != keyBits) {
                    throw r.error("RSA modulus of " + modulus.length * 8 + " bits, keyBits says " + keyBits);
                }
                BigInteger e = BigInteger.valueOf(exponent == 0 ? 65537 : exponent);
                key = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(new BigInteger(1, modulus), e));
            } else if (type == TpmAlg.ECC) {
                curve = r.u16("curveID");
                int kdf = r.u16("kdf.scheme");
                if (kdf != TpmAlg.NULL) {
                    r.u16("kdf.hashAlg");
                }
                byte[] x = r.sized("unique.x", MAX_KEY_BYTES);
                byte[] y = r.sized("unique.y", MAX_KEY_BYTES);
                key = ecKey(curve, x, y, r);
            } else {
                throw r.error("unsupported key type 0x" + Integer.toHexString(type) + " (RSA and ECC only)");
            }
        } catch (GeneralSecurityException e) {
            throw r.error("not a valid public key: " + e.getMessage());
        }
        r.expectEnd();
        return new TpmPublic(tpmt.clone(), type, nameAlg, attributes, authPolicy, scheme, schemeHash, curve, symBits,
                key);
    }

    // Storage keys (EKs) must say AES-CFB: it is what protects a credential; signing keys say NULL.
    private static int readSymmetric(TpmReader r) throws TpmFormatException {
        int alg = r.u16("symmetric.algorithm");
        if (alg == TpmAlg.NULL) {
            return 0;
        }
        int bits = r.u16("symmetric.keyBits");
        int mode = r.u16("symmetric.mode");
        if (alg != TpmAlg.AES || mode != TpmAlg.CFB || (bits != 128 && bits != 192 && bits != 256)) {
            throw r.error("unsupported symmetric definition 0x" + Integer.toHexString(alg) + "/" + bits + "/0x"
                    + Integer.toHexString(mode) + " (AES-CFB only)");
        }
        return bits;
    }

    private static PublicKey ecKey(int curve, byte[] x, byte[] y, TpmReader r)
            throws GeneralSecurityException, TpmFormatException {
        String name = curveName(curve);
        if (name == null) {
            throw r.error("unsupported ECC curve 0x" + Integer.toHexString(curve));
        }
        if (x.length == 0 || y.length == 0) {
            throw r.error("ECC point has an empty coordinate");
        }
        AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
        params.init(new ECGenParameterSpec(name));
        ECParameterSpec spec = params.getParameterSpec(ECParameterSpec.class);
        // The JDK checks the point lies on the curve, which rejects invalid-curve input.
        return KeyFactory.getInstance("EC").generatePublic(
                new ECPublicKeySpec(new ECPoint(new BigInteger(1, x), new BigInteger(1, y)), spec));
    }

    static String curveName(int curve) {
        switch (curve) {
            case TpmAlg.ECC_NIST_P256: return "secp256r1";
            case TpmAlg.ECC_NIST_P384: return "secp384r1";
            case TpmAlg.ECC_NIST_P521: return "secp521r1";
            default: return null;
        }
    }

    /** The TPM Name: nameAlg (u16) followed by the nameAlg digest of the TPMT_PUBLIC bytes. */
    public byte[] name() {
        byte[] digest = nameAlg.digest(encoded);
        return new TpmWriter().u16(nameAlg.algId()).bytes(digest).toBytes();
    }

    /** The TPMT_PUBLIC bytes as parsed. */
    public byte[] encoded() {
        return encoded.clone();
    }

    /** TPM2B_PUBLIC: the bytes with their u16 size in front. */
    public byte[] encodedSized() {
        return new TpmWriter().sized(encoded).toBytes();
    }

    public int type() {
        return type;
    }

    public boolean isRsa() {
        return type == TpmAlg.RSA;
    }

    public HashAlg nameAlg() {
        return nameAlg;
    }

    public int attributes() {
        return attributes;
    }

    public boolean has(int attributeBits) {
        return (attributes & attributeBits) == attributeBits;
    }

    public byte[] authPolicy() {
        return authPolicy.clone();
    }

    /** TPM_ALG_ID of the key's signing scheme (RSASSA, ECDSA, ...) or NULL. */
    public int schemeAlg() {
        return schemeAlg;
    }

    /** TPM_ALG_ID of the scheme's hash, or NULL. */
    public int schemeHashAlg() {
        return schemeHashAlg;
    }

    public int curve() {
        return curve;
    }

    /** AES key bits of a storage key's symmetric definition, 0 when it has none. */
    public int symmetricBits() {
        return symmetricBits;
    }

    public PublicKey publicKey() {
        return key;
    }

    /** For messages: "RSA 2048" or "ECC P-256". */
    public String describeKey() {
        if (key instanceof RSAPublicKey rsa) {
            return "RSA " + rsa.getModulus().bitLength();
        }
        if (key instanceof ECPublicKey ec) {
            return "ECC P-" + ec.getParams().getCurve().getField().getFieldSize();
        }
        return key.getAlgorithm();
    }
}
