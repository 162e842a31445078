package dev.outpost.spiffe;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Which subject keys the CA certifies: EC on the named curves P-256 and P-384, RSA from 2048 to 8192 bits.
 * Named curves only: explicit curve parameters in a key are a known way to smuggle in weak or crafted curves.
 */
public final class KeyPolicy {
    static final int MIN_RSA_BITS = 2048;
    // An upper bound keeps a hostile device from making us verify signatures with huge moduli.
    static final int MAX_RSA_BITS = 8192;

    private KeyPolicy() {
    }

    /** Returns null when acceptable, else the reason it is not. */
    public static String rejection(PublicKey key) {
        if (key instanceof ECPublicKey) {
            ASN1ObjectIdentifier curve = namedCurve(key);
            if (curve == null) {
                return "EC key without a named curve (explicit curve parameters are not accepted)";
            }
            if (curve.equals(SECObjectIdentifiers.secp256r1) || curve.equals(SECObjectIdentifiers.secp384r1)) {
                return null;
            }
            return "EC curve " + curve.getId() + " is not accepted (P-256 or P-384 only)";
        }
        if (key instanceof RSAPublicKey rsa) {
            int bits = rsa.getModulus().bitLength();
            if (bits < MIN_RSA_BITS) {
                return "RSA key of " + bits + " bits is too weak (at least " + MIN_RSA_BITS + ")";
            }
            if (bits > MAX_RSA_BITS) {
                return "RSA key of " + bits + " bits is over the " + MAX_RSA_BITS + " bit limit";
            }
            if (!rsa.getPublicExponent().testBit(0) || rsa.getPublicExponent().bitLength() < 2) {
                return "RSA public exponent is not an odd number >= 3";
            }
            return null;
        }
        return "key algorithm " + (key == null ? "null" : key.getAlgorithm()) + " is not accepted (EC P-256/P-384 or RSA >= 2048)";
    }

    private static ASN1ObjectIdentifier namedCurve(PublicKey key) {
        SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.getEncoded());
        if (!X9ObjectIdentifiers.id_ecPublicKey.equals(spki.getAlgorithm().getAlgorithm())) {
            return null;
        }
        ASN1Primitive params = spki.getAlgorithm().getParameters() == null ? null
                : spki.getAlgorithm().getParameters().toASN1Primitive();
        return params instanceof ASN1ObjectIdentifier oid ? oid : null;
    }
}
