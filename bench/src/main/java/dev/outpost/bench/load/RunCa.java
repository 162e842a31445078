package dev.outpost.bench.load;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A TPM manufacturer's EK CA made for one run: the appliance is configured to trust it, so simulated devices
 * enroll through the same certificate-chain check real TPMs go through.
 */
public final class RunCa {
    private static final long DAY = 86_400_000L;

    private final KeyPair key;
    private final X500Name name;
    private final X509Certificate cert;
    private final AtomicLong serial = new AtomicLong(2);

    public RunCa() throws GeneralSecurityException {
        this("CN=Outpost Load Generator EK CA,O=outpost-bench");
    }

    /** A self-signed P-256 CA by this name (the bundle-change scenario's federated roots are made so). */
    public RunCa(String distinguishedName) throws GeneralSecurityException {
        name = new X500Name(distinguishedName);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
        key = g.generateKeyPair();
        long now = System.currentTimeMillis();
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, new Date(now - DAY),
                    new Date(now + 30 * DAY), name, key.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            cert = new JcaX509CertificateConverter().getCertificate(b.build(signer()));
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException("EK CA: " + e.getMessage(), e);
        }
    }

    /** An EK certificate for an EK public key (RSA or ECC), DER, as a TPM vendor would provision in NV. */
    public byte[] issueEk(PublicKey ek, String deviceId) throws GeneralSecurityException {
        long now = System.currentTimeMillis();
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(serial.getAndIncrement()),
                    new Date(now - DAY), new Date(now + 30 * DAY), new X500Name("CN=ek-" + deviceId.substring(0, 16)), ek);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            // The EK is a decryption key, never a signer: keyEncipherment for RSA, keyAgreement for ECC (TCG profile).
            b.addExtension(Extension.keyUsage, true, new KeyUsage(ek instanceof java.security.interfaces.ECPublicKey
                    ? KeyUsage.keyAgreement : KeyUsage.keyEncipherment));
            return b.build(signer()).getEncoded();
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException("EK certificate: " + e.getMessage(), e);
        }
    }

    private ContentSigner signer() throws OperatorCreationException {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate());
    }

    public X509Certificate certificate() {
        return cert;
    }

    /** Writes the root certificate where the appliance's {@code enrollment.ekCaDir} points. */
    public void writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(cert);
        }
        Files.writeString(dir.resolve("load-ek-ca.pem"), s.toString());
    }
}
