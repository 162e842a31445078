package dev.outpost.mqtt.endpoint;

import java.math.BigInteger;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway PKI for tests: a CA, server certificates, X509-SVIDs shaped as the site CA issues them, and TLS socket
 * factories for Paho. P-256 keys, certificates valid for an hour, back-dated a minute.
 */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A certificate and its key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {
        public String certificatePem() {
            return pem(certificate);
        }

        public String keyPem() {
            return "-----BEGIN PRIVATE KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded())
                    + "\n-----END PRIVATE KEY-----\n";
        }
    }

    private final Issued ca;

    private TestPki(Issued ca) {
        this.ca = ca;
    }

    public static TestPki create(String caName) {
        try {
            KeyPair kp = keyPair();
            X500Name name = new X500Name("CN=" + caName);
            X509v3CertificateBuilder b = builder(name, name, kp);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new TestPki(new Issued(sign(b, kp.getPrivate()), kp.getPrivate()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public Issued ca() {
        return ca;
    }

    public String caPem() {
        return ca.certificatePem();
    }

    /** A TLS server certificate for 127.0.0.1 and localhost. */
    public Issued server() {
        try {
            KeyPair kp = keyPair();
            X509v3CertificateBuilder b = leafBuilder(new X500Name("CN=localhost"), kp);
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"),
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1") }));
            return new Issued(sign(b, ca.key), kp.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** An X509-SVID: one URI SAN, digitalSignature, serverAuth+clientAuth, not a CA. */
    public Issued svid(String spiffeId) {
        try {
            KeyPair kp = keyPair();
            X509v3CertificateBuilder b = leafBuilder(new X500Name("O=SPIFFE"), kp);
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] { KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth }));
            b.addExtension(Extension.subjectAlternativeName, true,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId)));
            return new Issued(sign(b, ca.key), kp.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A random device id (64 lowercase hex), as if the SHA-256 of an EK. */
    public static String randomDeviceId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    public static String pem(X509Certificate c) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(c.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A socket factory trusting this PKI's CA for the server, presenting {@code client} when given. The key manager
     * presents the certificate whatever CAs the server names, so a certificate from a foreign CA really reaches the
     * server's check (the JDK's default would quietly send none).
     */
    public SSLSocketFactory socketFactory(Issued client) {
        try {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("ca", ca.certificate);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            KeyManager[] kms = client == null ? null : new KeyManager[] { new FixedKeyManager(client) };
            ctx.init(kms, tmf.getTrustManagers(), RANDOM);
            return ctx.getSocketFactory();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static final class FixedKeyManager extends X509ExtendedKeyManager {
        private static final String ALIAS = "client";
        private final Issued issued;

        FixedKeyManager(Issued issued) {
            this.issued = issued;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] { ALIAS };
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return ALIAS;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return ALIAS;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[] { issued.certificate() };
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return issued.key();
        }
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private X509v3CertificateBuilder leafBuilder(X500Name subject, KeyPair kp) throws Exception {
        X509v3CertificateBuilder b = builder(new X500Name(ca.certificate.getSubjectX500Principal().getName()), subject, kp);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        return b;
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(Duration.ofHours(1))), subject,
                kp.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
    }
}
