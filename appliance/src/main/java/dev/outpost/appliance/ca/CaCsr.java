package dev.outpost.appliance.ca;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.jce.ECPointUtil;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import dev.outpost.mqtt.protocol.transport.Providers;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.spiffe.SpiffeId;

/**
 * The PKCS#10 request for a site CA: subject {@code O=Outpost, CN=Outpost site CA <site>}, one requested extension,
 * the URI SAN {@code spiffe://<td>}, signed by the pending key (proof of possession). It asks for nothing else:
 * central refuses a CSR that requests CA:true or a key usage (those are the signer's to set, docs/upward-link.md
 * "CSRs"), and an operator's CA sets them from its own extension file. {@link InstallCheck} decides what we accept.
 */
public final class CaCsr {
    private CaCsr() {
    }

    public static String pem(PrivateKey key, String trustDomain, String site) throws GeneralSecurityException {
        try {
            ExtensionsGenerator ext = new ExtensionsGenerator();
            ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, SpiffeId.ofTrustDomain(trustDomain).toString())));
            PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(SiteCa.subject(site), publicOf(key))
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(Providers.bouncyCastle()).build(key));
            return Pem.encode("CERTIFICATE REQUEST", csr.getEncoded());
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException("cannot build the site CA request: " + e.getMessage(), e);
        }
    }

    /** The public half of an EC private key (P-256 here): W = s·G, computed by Bouncy Castle. */
    public static PublicKey publicOf(PrivateKey key) throws GeneralSecurityException {
        if (!(key instanceof ECPrivateKey ec)) {
            throw new GeneralSecurityException("the site CA key must be EC");
        }
        org.bouncycastle.jce.spec.ECNamedCurveParameterSpec spec =
                org.bouncycastle.jce.ECNamedCurveTable.getParameterSpec("secp256r1");
        org.bouncycastle.math.ec.ECPoint q = spec.getG().multiply(ec.getS()).normalize();
        ECPoint w = ECPointUtil.decodePoint(ec.getParams().getCurve(), q.getEncoded(false));
        return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(w, ec.getParams()));
    }
}
