package dev.outpost.ima.verify;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;

import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.oiw.OIWObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.DigestInfo;

import dev.outpost.tpm.HashAlg;

/**
 * An IMA "digital signature v2" xattr (signature_v2_hdr): type 3, version 2, kernel hash_algo, 4-byte key id,
 * big-endian size, signature over the file digest itself (PKCS#1 v1.5 DigestInfo for RSA, plain ECDSA).
 */
public record ImaSignature(HashAlg hashAlg, int keyId, byte[] sig) {
    static final int EVM_IMA_XATTR_DIGSIG = 3;
    /** EVM portable signatures share the v2 layout; the kernel and Keylime accept both types. */
    static final int EVM_XATTR_PORTABLE_DIGSIG = 5;

    /** Null with a reason in {@code why[0]} when the bytes are not a supported v2 signature. */
    public static ImaSignature parse(byte[] b, String[] why) {
        if (b == null || b.length < 9) {
            why[0] = "signature shorter than its 9-byte header";
            return null;
        }
        if ((b[0] != EVM_IMA_XATTR_DIGSIG && b[0] != EVM_XATTR_PORTABLE_DIGSIG) || b[1] != 2) {
            why[0] = "unsupported signature type " + b[0] + " version " + b[1] + " (only digsig v2)";
            return null;
        }
        HashAlg alg = switch (b[2]) {
            case 2 -> HashAlg.SHA1;
            case 4 -> HashAlg.SHA256;
            case 5 -> HashAlg.SHA384;
            case 6 -> HashAlg.SHA512;
            default -> null;
        };
        if (alg == null) {
            why[0] = "unsupported signature hash algorithm " + b[2];
            return null;
        }
        int keyId = (b[3] & 0xff) << 24 | (b[4] & 0xff) << 16 | (b[5] & 0xff) << 8 | (b[6] & 0xff);
        int size = (b[7] & 0xff) << 8 | (b[8] & 0xff);
        if (size != b.length - 9) {
            why[0] = "signature size field " + size + " does not match " + (b.length - 9) + " bytes";
            return null;
        }
        return new ImaSignature(alg, keyId, Arrays.copyOfRange(b, 9, b.length));
    }

    public byte[] encode() {
        byte[] out = new byte[9 + sig.length];
        out[0] = EVM_IMA_XATTR_DIGSIG;
        out[1] = 2;
        out[2] = (byte) switch (hashAlg) {
            case SHA1 -> 2;
            case SHA256 -> 4;
            case SHA384 -> 5;
            case SHA512 -> 6;
            default -> throw new IllegalArgumentException("no kernel hash_algo for " + hashAlg);
        };
        out[3] = (byte) (keyId >>> 24);
        out[4] = (byte) (keyId >>> 16);
        out[5] = (byte) (keyId >>> 8);
        out[6] = (byte) keyId;
        out[7] = (byte) (sig.length >>> 8);
        out[8] = (byte) sig.length;
        System.arraycopy(sig, 0, out, 9, sig.length);
        return out;
    }

    /** True when {@code key} signed {@code digest}; malformed signatures are simply false. */
    public boolean verify(PublicKey key, byte[] digest) {
        try {
            Signature v;
            byte[] signed;
            if (key.getAlgorithm().equals("RSA")) {
                v = Signature.getInstance("NONEwithRSA");
                signed = digestInfo(hashAlg, digest);
            } else if (key.getAlgorithm().equals("EC")) {
                v = Signature.getInstance("NONEwithECDSA");
                signed = digest;
            } else {
                return false;
            }
            v.initVerify(key);
            v.update(signed);
            return v.verify(sig);
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            return false;
        }
    }

    public static byte[] digestInfo(HashAlg alg, byte[] digest) throws IOException {
        var oid = switch (alg) {
            case SHA1 -> OIWObjectIdentifiers.idSHA1;
            case SHA256 -> NISTObjectIdentifiers.id_sha256;
            case SHA384 -> NISTObjectIdentifiers.id_sha384;
            case SHA512 -> NISTObjectIdentifiers.id_sha512;
            default -> throw new IOException("no DigestInfo for " + alg);
        };
        return new DigestInfo(new AlgorithmIdentifier(oid, DERNull.INSTANCE), digest).getEncoded("DER");
    }
}
