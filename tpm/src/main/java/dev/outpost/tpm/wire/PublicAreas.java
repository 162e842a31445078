package dev.outpost.tpm.wire;

import java.math.BigInteger;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import dev.outpost.tpm.HashAlg;

/**
 * TPMT_PUBLIC for a key held outside a TPM, marshalled as a TPM would: lets software stand in for a TPM in
 * benchmarks and the load generator, byte for byte.
 */
public final class PublicAreas {
    private PublicAreas() {
    }

    /** A restricted signing key (RSASSA or ECDSA with SHA-256) of the given attributes. */
    public static byte[] signingKey(PublicKey key, int attributes) {
        TpmWriter w = new TpmWriter();
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            long e = rsa.getPublicExponent().longValueExact();
            w.u16(TpmAlg.RSA).u16(HashAlg.SHA256.algId()).u32(attributes).sized(new byte[0])
                    .u16(TpmAlg.NULL).u16(TpmAlg.RSASSA).u16(HashAlg.SHA256.algId())
                    .u16(bits).u32(e == 65537 ? 0 : (int) e).sized(unsigned(rsa.getModulus(), bits / 8));
        } else if (key instanceof ECPublicKey ec) {
            int size = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            int curve = size == 32 ? TpmAlg.ECC_NIST_P256 : size == 48 ? TpmAlg.ECC_NIST_P384 : TpmAlg.ECC_NIST_P521;
            w.u16(TpmAlg.ECC).u16(HashAlg.SHA256.algId()).u32(attributes).sized(new byte[0])
                    .u16(TpmAlg.NULL).u16(TpmAlg.ECDSA).u16(HashAlg.SHA256.algId()).u16(curve).u16(TpmAlg.NULL)
                    .sized(unsigned(ec.getW().getAffineX(), size)).sized(unsigned(ec.getW().getAffineY(), size));
        } else {
            throw new IllegalArgumentException("not an RSA or EC key: " + key.getAlgorithm());
        }
        return w.toBytes();
    }

    /** Big-endian, left-padded to exactly {@code size} bytes. */
    public static byte[] unsigned(BigInteger v, int size) {
        byte[] b = v.toByteArray();
        byte[] out = new byte[size];
        int n = Math.min(size, b.length);
        System.arraycopy(b, b.length - n, out, size - n, n);
        return out;
    }
}
