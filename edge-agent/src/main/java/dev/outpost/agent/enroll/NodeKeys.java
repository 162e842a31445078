package dev.outpost.agent.enroll;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * The node key an SVID certifies: EC P-256, new for every SVID so a leaked key dies with its certificate.
 * (A TPM-resident key certified by the AK is the later step.)
 */
public final class NodeKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private NodeKeys() {
    }

    public static KeyPair generate() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    /** A PKCS#10 request proving possession of the key; the CA ignores its subject and decides the identity. */
    public static byte[] csr(KeyPair key, String deviceId) throws GeneralSecurityException {
        try {
            return new JcaPKCS10CertificationRequestBuilder(new X500Principal("CN=" + deviceId), key.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
                    .getEncoded();
        } catch (OperatorCreationException | IOException e) {
            throw new GeneralSecurityException("cannot build CSR: " + e.getMessage(), e);
        }
    }
}
