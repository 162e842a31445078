package dev.outpost.central.ca;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.outpost.spiffe.X509Certs;
import dev.outpost.spiffe.KeyPolicy;
import dev.outpost.spiffe.SpiffeId;

/**
 * Builds and signs the certificates central issues, in the appliance's style: P-256 issuer, SHA256withECDSA,
 * random 128-bit serials, back-dated 30 s, every extension set here and nothing copied from a request.
 */
final class CertSigner {
    static final Duration BACKDATE = Duration.ofSeconds(30);
    private static final String SIG_ALG = "SHA256withECDSA";
    // A private provider instance, not installed process-wide.
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();

    record Window(Instant notBefore, Instant notAfter) {
    }

    private final PrivateKey key;
    private final X509Certificate issuer;
    private final SecureRandom random;
    private final byte[] issuerKeyId;

    CertSigner(PrivateKey key, X509Certificate issuer, SecureRandom random) {
        this.key = key;
        this.issuer = issuer;
        this.random = random;
        this.issuerKeyId = keyId(issuer);
    }

    X509Certificate siteCa(String site, PublicKey siteKey, SpiffeId trustDomainId, Window w) {
        vet(siteKey);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Outpost")
                .addRDN(BCStyle.CN, "Outpost site CA " + site).build();
        try {
            X509v3CertificateBuilder b = builder(subject, siteKey, w);
            // pathLen 0: a site CA signs SVIDs, never another CA; a stolen site key cannot mint a sub-CA.
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, trustDomainId.toString())));
            return sign(b, key);
        } catch (GeneralSecurityException | IOException e) {
            throw new CaException("cannot sign the site CA of " + site + ": " + e.getMessage(), e);
        }
    }

    X509Certificate leaf(String cn, PublicKey subjectKey, List<String> uris, List<String> hostNames, boolean serverAuth,
            boolean clientAuth, Window w) {
        vet(subjectKey);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Outpost").addRDN(BCStyle.CN, cn).build();
        List<GeneralName> sans = new ArrayList<>();
        for (String u : uris) {
            sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, u));
        }
        for (String n : new LinkedHashSet<>(hostNames)) {
            boolean ip = n.matches("[0-9.]+") || n.contains(":");
            sans.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        List<KeyPurposeId> purposes = new ArrayList<>();
        if (serverAuth) {
            purposes.add(KeyPurposeId.id_kp_serverAuth);
        }
        if (clientAuth) {
            purposes.add(KeyPurposeId.id_kp_clientAuth);
        }
        try {
            X509v3CertificateBuilder b = builder(subject, subjectKey, w);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes.toArray(new KeyPurposeId[0])));
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
            }
            return sign(b, key);
        } catch (GeneralSecurityException | IOException e) {
            throw new CaException("cannot issue a certificate for " + cn + ": " + e.getMessage(), e);
        }
    }

    private X509v3CertificateBuilder builder(X500Name subject, PublicKey subjectKey, Window w)
            throws GeneralSecurityException, IOException {
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, X509Certs.randomSerial(random),
                Date.from(w.notBefore()), Date.from(w.notAfter()), subject, subjectKey);
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
        b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(issuerKeyId));
        return b;
    }

    private static void vet(PublicKey key) {
        String weak = KeyPolicy.rejection(key);
        if (weak != null) {
            throw new IllegalArgumentException("key refused: " + weak);
        }
    }

    static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            ContentSigner cs = new JcaContentSignerBuilder(SIG_ALG).setProvider(BC).build(signer);
            return new JcaX509CertificateConverter().getCertificate(b.build(cs));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static byte[] keyId(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ext != null) {
            return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
        }
        try {
            return new JcaX509ExtensionUtils().createSubjectKeyIdentifier(cert.getPublicKey()).getKeyIdentifier();
        } catch (GeneralSecurityException e) {
            throw new CaException("cannot compute the CA key identifier: " + e.getMessage(), e);
        }
    }
}
