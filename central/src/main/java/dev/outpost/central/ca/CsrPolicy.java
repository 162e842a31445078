package dev.outpost.central.ca;

import java.security.PublicKey;
import java.util.List;

import org.bouncycastle.asn1.ASN1Encodable;
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
import dev.outpost.tpm.keys.Pem;

/**
 * What central accepts in a site's CSR. The shared {@link CsrValidator} proves possession and vets the key;
 * central then takes only that key. Unlike a device CSR, whose extras the appliance ignores, a site that asks for
 * something (another SAN, CA:true, a key usage, any attribute) is told no: a CSR that asks for more than it can
 * get is a misconfigured or hostile site, and a silent "yes, but less" hides that from its operator. The subject
 * is ignored (central names every certificate it signs); the one extension request accepted is a URI SAN equal
 * to the one central will assign anyway.
 */
public final class CsrPolicy {
    public static final int MAX_CSR_BYTES = 8192;

    private CsrPolicy() {
    }

    /** @param allowedUri the URI SAN central will put in the certificate (the only SAN a CSR may repeat) */
    public static PublicKey keyOf(String csrPem, String allowedUri) throws CsrException {
        if (csrPem == null || csrPem.isBlank()) {
            throw new CsrException("csr is missing");
        }
        List<byte[]> blocks;
        try {
            blocks = Pem.blocks(csrPem, "CERTIFICATE REQUEST", 1);
        } catch (IllegalArgumentException e) {
            throw new CsrException("csr: " + e.getMessage() + " (one PEM CERTIFICATE REQUEST block expected)");
        }
        if (blocks.isEmpty()) {
            throw new CsrException("csr holds no PEM CERTIFICATE REQUEST block");
        }
        byte[] der = blocks.get(0);
        PublicKey key = CsrValidator.validate(der, MAX_CSR_BYTES);
        PKCS10CertificationRequest csr;
        try {
            csr = new PKCS10CertificationRequest(der);
        } catch (Exception e) {
            throw new CsrException("CSR is not a DER PKCS#10 request: " + e.getMessage());
        }
        for (Attribute a : csr.getAttributes()) {
            if (!PKCSObjectIdentifiers.pkcs_9_at_extensionRequest.equals(a.getAttrType())) {
                throw new CsrException("CSR carries attribute " + a.getAttrType().getId()
                        + "; central accepts none (only the key of a CSR is used)");
            }
            for (ASN1Encodable v : a.getAttrValues()) {
                checkExtensions(Extensions.getInstance(v), allowedUri);
            }
        }
        return key;
    }

    private static void checkExtensions(Extensions exts, String allowedUri) throws CsrException {
        for (ASN1ObjectIdentifier oid : exts.getExtensionOIDs()) {
            if (Extension.basicConstraints.equals(oid)) {
                throw new CsrException("CSR requests basicConstraints; refused: central alone decides CA:true/pathLen "
                        + "(a site CA is pathLen 0, a credential is not a CA)");
            }
            if (!Extension.subjectAlternativeName.equals(oid)) {
                throw new CsrException("CSR requests extension " + oid.getId() + "; refused: central sets every extension itself");
            }
            GeneralNames names = GeneralNames.getInstance(exts.getExtension(oid).getParsedValue());
            for (GeneralName n : names.getNames()) {
                boolean same = n.getTagNo() == GeneralName.uniformResourceIdentifier && n.getName().toString().equals(allowedUri);
                if (!same) {
                    throw new CsrException("CSR requests the subject alternative name " + describe(n) + "; refused: the only "
                            + "name central issues here is " + allowedUri);
                }
            }
        }
    }

    private static String describe(GeneralName n) {
        String v = n.getName().toString();
        v = v.length() > 80 ? v.substring(0, 80) + "…" : v;
        return "[" + n.getTagNo() + "] " + v.replaceAll("[^\\x20-\\x7e…]", "?");
    }
}
