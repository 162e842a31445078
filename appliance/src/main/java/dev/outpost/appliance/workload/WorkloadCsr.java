package dev.outpost.appliance.workload;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import dev.outpost.spiffe.CsrException;
import dev.outpost.spiffe.CsrValidator;

/**
 * A workload's CSR, checked against its entry: the signature verifies and the key passes the site's key rules
 * ({@link CsrValidator}), its only URI SAN is the entry's SPIFFE ID, its DNS SANs are among the entry's, and it asks
 * for nothing else (no other SAN type, no other extension, no other attribute). Unlike a node CSR, what a workload
 * CSR asks for is checked rather than ignored: an agent that asks for more than its entry gives is broken or
 * compromised, and the refusal names it.
 */
final class WorkloadCsr {
    static final int MAX_BYTES = 8192;

    private WorkloadCsr() {
    }

    /** The key to certify; throws {@link CsrException} naming the first fault. */
    static PublicKey check(byte[] der, Entry entry) throws CsrException {
        PublicKey key = CsrValidator.validate(der, MAX_BYTES);
        PKCS10CertificationRequest csr;
        try {
            csr = new PKCS10CertificationRequest(der);
        } catch (Exception e) {
            throw new CsrException("CSR is not a DER PKCS#10 request");
        }
        Extensions requested = null;
        for (Attribute a : csr.getAttributes()) {
            if (!a.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                throw new CsrException("CSR carries attribute " + a.getAttrType().getId() + "; only an extension "
                        + "request with the subjectAltName is accepted");
            }
            if (requested != null || a.getAttrValues().size() != 1) {
                throw new CsrException("CSR carries more than one extension request");
            }
            try {
                requested = Extensions.getInstance(a.getAttrValues().getObjectAt(0));
            } catch (RuntimeException e) {
                throw new CsrException("CSR extension request is malformed");
            }
        }
        if (requested == null || requested.getExtension(Extension.subjectAlternativeName) == null) {
            throw new CsrException("CSR asks for no subjectAltName: it must ask for " + entry.spiffeId());
        }
        for (ASN1ObjectIdentifier oid : requested.getExtensionOIDs()) {
            if (!oid.equals(Extension.subjectAlternativeName)) {
                throw new CsrException("CSR asks for extension " + name(oid) + "; a workload SVID's extensions are the "
                        + "appliance's to set");
            }
        }
        GeneralNames sans;
        try {
            sans = GeneralNames.getInstance(requested.getExtension(Extension.subjectAlternativeName).getParsedValue());
        } catch (RuntimeException e) {
            throw new CsrException("CSR subjectAltName is malformed");
        }
        List<String> uris = new ArrayList<>();
        for (GeneralName n : sans.getNames()) {
            String value = n.getName().toString();
            switch (n.getTagNo()) {
                case GeneralName.uniformResourceIdentifier -> uris.add(value);
                case GeneralName.dNSName -> {
                    if (!entry.dnsNames().contains(value)) {
                        throw new CsrException("CSR asks for DNS name " + EntryRules.show(value) + ", which entry "
                                + entry.id() + " does not give");
                    }
                }
                default -> throw new CsrException("CSR asks for a subjectAltName of type " + n.getTagNo()
                        + "; only the SPIFFE ID and the entry's DNS names are issued");
            }
        }
        if (uris.size() != 1) {
            throw new CsrException("CSR asks for " + uris.size() + " URI SANs; an X509-SVID has exactly one");
        }
        if (!uris.get(0).equals(entry.spiffeId())) {
            throw new CsrException("CSR asks for " + EntryRules.show(uris.get(0)) + "; entry " + entry.id() + " gives "
                    + entry.spiffeId());
        }
        return key;
    }

    private static String name(ASN1ObjectIdentifier oid) {
        if (oid.equals(Extension.basicConstraints)) {
            return "basicConstraints (" + oid.getId() + ")";
        }
        if (oid.equals(Extension.keyUsage)) {
            return "keyUsage (" + oid.getId() + ")";
        }
        if (oid.equals(Extension.extendedKeyUsage)) {
            return "extendedKeyUsage (" + oid.getId() + ")";
        }
        return oid.getId();
    }
}
