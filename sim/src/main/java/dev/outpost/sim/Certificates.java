package dev.outpost.sim;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates standing in for a platform's PK/KEK/db keys; only their DER matters to the log. */
final class Certificates {
    // Fixed validity, so the same subject and key always give a certificate of the same shape.
    private static final Date NOT_BEFORE = new Date(1_600_000_000_000L);
    private static final Date NOT_AFTER = new Date(2_600_000_000_000L);

    private Certificates() {
    }

    static byte[] selfSigned(String subject, long serial) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair kp = g.generateKeyPair();
            X500Name n = new X500Name(subject);
            return new JcaX509v3CertificateBuilder(n, BigInteger.valueOf(serial), NOT_BEFORE, NOT_AFTER, n,
                    kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())).getEncoded();
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("cannot make a certificate for " + subject, e);
        }
    }
}
