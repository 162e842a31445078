package dev.outpost.spiffe;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;

/** Certificate facts both CAs (the site's and central's) rely on, kept in one place so they cannot drift apart. */
public final class X509Certs {
    private X509Certs() {
    }

    /** RFC 5280 asks for positive serials of at most 20 octets; 128 random bits make collisions and guessing moot. */
    public static BigInteger randomSerial(SecureRandom random) {
        byte[] b = new byte[16];
        BigInteger s;
        do {
            random.nextBytes(b);
            s = new BigInteger(1, b);
        } while (s.signum() == 0);
        return s;
    }

    /** Issued by itself and verifying with its own key: a root, not a certificate that merely names itself. */
    public static boolean isSelfSigned(X509Certificate c) {
        return issuedBy(c, c);
    }

    /** Names {@code issuer} as its issuer and verifies with its key: a name alone proves nothing. */
    public static boolean issuedBy(X509Certificate c, X509Certificate issuer) {
        if (!c.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            c.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Whether a private key is the one of a public key: a signature round trip (EC or RSA). */
    public static boolean belongTogether(PrivateKey priv, PublicKey pub) throws GeneralSecurityException {
        String alg = "RSA".equals(pub.getAlgorithm()) ? "SHA256withRSA" : "SHA256withECDSA";
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
    }
}
