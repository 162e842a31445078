package dev.outpost.central.ca;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

import org.bouncycastle.asn1.x509.GeneralName;

import dev.outpost.spiffe.SpiffeId;

/** Small certificate facts used across central. */
public final class Certs {
    private Certs() {
    }

    // RFC 5280 asks for positive serials of at most 20 octets; 128 random bits make collisions and guessing moot.
    static BigInteger randomSerial(SecureRandom random) {
        byte[] b = new byte[16];
        BigInteger s;
        do {
            random.nextBytes(b);
            s = new BigInteger(1, b);
        } while (s.signum() == 0);
        return s;
    }

    public static String serialHex(X509Certificate c) {
        return c.getSerialNumber().toString(16);
    }

    public static boolean isSelfSigned(X509Certificate c) {
        if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
            return false;
        }
        try {
            c.verify(c.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** The URI SANs of a certificate, in order. */
    public static List<String> uriSans(X509Certificate cert) throws CertificateParsingException {
        List<String> out = new ArrayList<>();
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                if (Integer.valueOf(GeneralName.uniformResourceIdentifier).equals(san.get(0))) {
                    out.add((String) san.get(1));
                }
            }
        }
        return out;
    }

    /** The one SPIFFE ID a certificate carries (X509-SVID: exactly one URI SAN), or an exception saying what is wrong. */
    public static SpiffeId spiffeId(X509Certificate cert) throws CertificateParsingException {
        List<String> uris = uriSans(cert);
        if (uris.size() != 1) {
            throw new CertificateParsingException("certificate carries " + uris.size() + " URI SANs, not exactly one SPIFFE ID");
        }
        return SpiffeId.parse(uris.get(0));
    }

    /** Whether a private key is the one of a public key: a signature round trip, algorithm-independent for EC/RSA. */
    static boolean belongTogether(PrivateKey priv, PublicKey pub) {
        String alg = "EC".equals(pub.getAlgorithm()) ? "SHA256withECDSA" : "SHA256withRSA";
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature s = Signature.getInstance(alg);
            s.initSign(priv);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
