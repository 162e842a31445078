package dev.outpost.testkit.mosquitto;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway site PKI shaped like Outpost's: a CA, a broker certificate, SVIDs, the appliance's certificate. */
final class TestPki {
    static final String TRUST_DOMAIN = "site.test";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A key and its certificate chain (leaf first). */
    record Issued(KeyPair key, X509Certificate cert, List<X509Certificate> chain) {
    }

    private final Issued ca;

    private TestPki(Issued ca) {
        this.ca = ca;
    }

    static TestPki newCa(String name) {
        KeyPair key = ecKey();
        X500Name dn = new X500Name("CN=" + name);
        X509Certificate cert = sign(dn, key, dn, key, true, List.of(), Instant.now().minus(Duration.ofDays(1)),
                Duration.ofDays(2));
        return new TestPki(new Issued(key, cert, List.of(cert)));
    }

    X509Certificate caCert() {
        return ca.cert();
    }

    /** The broker's certificate: names the addresses the tests dial, so clients keep hostname checks on. */
    Issued server() {
        return issue("localhost", List.of(new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
    }

    /** A node SVID: CN is the device id (what Mosquitto's ACL sees), the URI SAN its SPIFFE ID. */
    Issued svid(String deviceId) {
        return issue(deviceId, List.of(new GeneralName(GeneralName.uniformResourceIdentifier,
                "spiffe://" + TRUST_DOMAIN + "/agent/tpm/" + deviceId)));
    }

    /** An SVID whose hour ran out: what a device holds when its attestation stopped passing. */
    Issued expiredSvid(String deviceId) {
        KeyPair key = ecKey();
        X509Certificate cert = sign(new X500Name("CN=" + deviceId), key,
                X500Name.getInstance(ca.cert().getSubjectX500Principal().getEncoded()), ca.key(), false,
                List.of(new GeneralName(GeneralName.uniformResourceIdentifier,
                        "spiffe://" + TRUST_DOMAIN + "/agent/tpm/" + deviceId)),
                Instant.now().minus(Duration.ofHours(2)), Duration.ofHours(1));
        return new Issued(key, cert, List.of(cert, ca.cert()));
    }

    Issued client(String cn) {
        return issue(cn, List.of());
    }

    private Issued issue(String cn, List<GeneralName> sans) {
        KeyPair key = ecKey();
        X509Certificate cert = sign(new X500Name("CN=" + cn), key, X500Name.getInstance(
                ca.cert().getSubjectX500Principal().getEncoded()), ca.key(), false, sans, Instant.now(), Duration.ofHours(1));
        return new Issued(key, cert, List.of(cert, ca.cert()));
    }

    static String newDeviceId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static KeyPair ecKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X500Name subject, KeyPair subjectKey, X500Name issuer, KeyPair issuerKey,
            boolean isCa, List<GeneralName> sans, Instant from, Duration life) {
        try {
            // Back-dated like Outpost's CA, so clock skew between JVM and OpenSSL cannot reject a fresh cert.
            Instant now = from.minusSeconds(30);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
                    new BigInteger(64, RANDOM).abs().add(BigInteger.ONE), Date.from(now), Date.from(now.plus(life)),
                    subject, subjectKey.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(issuerKey.getPublic()));
            if (isCa) {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            }
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false,
                        new GeneralNames(sans.toArray(GeneralName[]::new)));
            }
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void writePem(Path file, Object... objects) {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            for (Object o : objects) {
                // PKCS#8: BC's traditional EC key encoding is one OpenSSL 3 refuses to decode.
                if (o instanceof java.security.PrivateKey k) {
                    w.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null));
                } else {
                    w.writeObject(o);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Files.writeString(file, sw.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** TLS for a Paho client: trusts {@code trusted}, presents {@code identity} when given. */
    static SSLSocketFactory tls(X509Certificate trusted, Issued identity) {
        try {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            ts.setCertificateEntry("ca", trusted);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            KeyManagerFactory kmf = null;
            if (identity != null) {
                char[] pw = "test".toCharArray();
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("id", identity.key().getPrivate(), pw,
                        new ArrayList<>(identity.chain()).toArray(X509Certificate[]::new));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, pw);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), RANDOM);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
