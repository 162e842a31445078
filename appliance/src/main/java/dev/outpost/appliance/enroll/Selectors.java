package dev.outpost.appliance.enroll;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;

import dev.outpost.tpm.keys.Endorsement;

/**
 * Selectors from what enrollment proved, for registration entries: the EK hash, and the TPM manufacturer and
 * model the EK certificate's subjectAltName states (TCG EK Credential Profile: directoryName with
 * tcg-at-tpmManufacturer 2.23.133.2.1 and tcg-at-tpmModel 2.23.133.2.2).
 */
final class Selectors {
    private static final ASN1ObjectIdentifier MANUFACTURER = new ASN1ObjectIdentifier("2.23.133.2.1");
    private static final ASN1ObjectIdentifier MODEL = new ASN1ObjectIdentifier("2.23.133.2.2");

    private Selectors() {
    }

    static List<String> of(String deviceId, byte[] ekCertificate) {
        List<String> out = new ArrayList<>();
        out.add("tpm:ek-hash:" + deviceId);
        if (ekCertificate != null) {
            try {
                X509Certificate cert = Endorsement.parseCertificate(ekCertificate);
                Extension san = new JcaX509CertificateHolder(cert).getExtension(Extension.subjectAlternativeName);
                if (san != null) {
                    for (GeneralName n : GeneralNames.getInstance(san.getParsedValue()).getNames()) {
                        if (n.getTagNo() == GeneralName.directoryName) {
                            for (RDN rdn : X500Name.getInstance(n.getName()).getRDNs()) {
                                for (AttributeTypeAndValue tv : rdn.getTypesAndValues()) {
                                    add(out, tv.getType(), tv.getValue());
                                }
                            }
                        }
                    }
                }
            } catch (CertificateException | RuntimeException e) {
                // selectors are descriptive; an odd certificate just yields fewer of them
            }
        }
        return out;
    }

    private static void add(List<String> out, ASN1ObjectIdentifier type, ASN1Encodable value) {
        String v = value.toString().replaceAll("[^A-Za-z0-9:._-]", "");
        if (v.isEmpty()) {
            return;
        }
        if (type.equals(MANUFACTURER)) {
            out.add("tpm:ek-manufacturer:" + v);
        } else if (type.equals(MODEL)) {
            out.add("tpm:ek-model:" + v);
        }
    }
}
