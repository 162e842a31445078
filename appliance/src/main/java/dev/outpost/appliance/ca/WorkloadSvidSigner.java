package dev.outpost.appliance.ca;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

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
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;

import dev.outpost.spiffe.KeyPolicy;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.X509Certs;

/**
 * Workload X509-SVIDs from the active site CA, by the SPIFFE X509-SVID standard: exactly one URI SAN (the workload's
 * SPIFFE ID) and the DNS names its entry allows, digitalSignature (critical), serverAuth + clientAuth, cA=false;
 * the chain as node SVIDs carry it. The caller decided what may be issued; this class only refuses what no SVID may
 * be (a node ID, a weak key, a life past the CA's).
 */
public final class WorkloadSvidSigner {
    private final SiteCa ca;
    private final Clock clock;

    public WorkloadSvidSigner(SiteCa ca, Clock clock) {
        this.ca = ca;
        this.clock = clock;
    }

    /** Issues the SVID; its life ends at {@code notAfter} or the CA's end, whichever is first. */
    public IssuedSvid issue(PublicKey subjectKey, SpiffeId id, List<String> dnsNames, Instant notAfter) {
        if (!id.trustDomain().equals(ca.trustDomain())) {
            throw new IllegalArgumentException(id + " is not in trust domain " + ca.trustDomain());
        }
        if (id.path().isEmpty() || id.path().startsWith("/agent/")) {
            throw new IllegalArgumentException(id + " is not a workload ID");
        }
        String weak = KeyPolicy.rejection(subjectKey);
        if (weak != null) {
            throw new IllegalArgumentException("subject key refused: " + weak);
        }
        SiteCa.Signing s = ca.signing();
        Instant now = clock.instant();
        Instant caEnd = s.chain().get(0).getNotAfter().toInstant();
        if (!now.isBefore(caEnd)) {
            throw new CaException("ca expired: the site CA expired at " + caEnd + "; no identity can be issued until "
                    + "a new CA is installed (outpost-appliance ca csr / ca install)");
        }
        Instant notBefore = now.minus(SiteCa.BACKDATE).truncatedTo(ChronoUnit.SECONDS);
        Instant end = (notAfter.isAfter(caEnd) ? caEnd : notAfter).truncatedTo(ChronoUnit.SECONDS);
        if (!end.isAfter(now)) {
            throw new IllegalArgumentException("nothing left of the SVID's life (it would end at " + end + ")");
        }
        BigInteger serial = X509Certs.randomSerial(s.random());
        // SPIFFE gives the subject no meaning; O=Outpost says who issued it, the URI SAN says who it is.
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Outpost")
                .addRDN(BCStyle.OU, "workload").build();
        List<GeneralName> sans = new ArrayList<>();
        sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()));
        for (String d : dnsNames) {
            sans.add(new GeneralName(GeneralName.dNSName, d));
        }
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(s.chain().get(0), serial, Date.from(notBefore),
                    Date.from(end), subject, subjectKey);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            b.addExtension(Extension.subjectKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createSubjectKeyIdentifier(subjectKey));
            b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(s.caKeyId()));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
            X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(b.build(CertificateSigner.of(s.key())));
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(leaf);
            for (X509Certificate c : s.chain()) {
                if (!X509Certs.isSelfSigned(c)) {
                    chain.add(c);
                }
            }
            return new IssuedSvid(leaf, chain, serial, notBefore, end, id);
        } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
            throw new CaException("cannot issue SVID for " + id + ": " + e.getMessage(), e);
        }
    }
}
