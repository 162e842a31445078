package dev.outpost.agent.workload;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Workload keys and their CSRs: P-256, made here and kept in memory only (a restart makes new ones); the CSR asks
 * for the entry's SPIFFE ID as its only URI SAN, the entry's DNS names, and nothing else, which is what the appliance
 * checks.
 */
final class WorkloadCsr {
    private WorkloadCsr() {
    }

    static KeyPair newKey() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    static byte[] csr(KeyPair key, String spiffeId, List<String> dnsNames) throws GeneralSecurityException {
        try {
            List<GeneralName> names = new ArrayList<>();
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId));
            for (String d : dnsNames == null ? List.<String>of() : dnsNames) {
                names.add(new GeneralName(GeneralName.dNSName, d));
            }
            ExtensionsGenerator ext = new ExtensionsGenerator();
            ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])));
            // SPIFFE SVIDs carry their identity in the URI SAN; the subject says nothing more.
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("O=SPIFFE"), key.getPublic())
                    .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()))
                    .getEncoded();
        } catch (IOException | OperatorCreationException e) {
            throw new GeneralSecurityException("workload CSR: " + e.getMessage(), e);
        }
    }
}
