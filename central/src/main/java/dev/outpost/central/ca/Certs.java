package dev.outpost.central.ca;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;

import org.bouncycastle.asn1.x509.GeneralName;

import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.X509Certs;

/** Small certificate facts used across central. */
public final class Certs {
    private Certs() {
    }

    public static String serialHex(X509Certificate c) {
        return c.getSerialNumber().toString(16);
    }

    /** The URI SANs of a certificate, in order. */
    public static List<String> uriSans(X509Certificate cert) throws CertificateParsingException {
        List<String> out = new ArrayList<>();
        Collection<List<?>> sans = cert.getSubjectAlternativeNames();
        if (sans != null) {
            for (List<?> san : sans) {
                if (Integer.valueOf(GeneralName.uniformResourceIdentifier).equals(san.get(0))) {
                    out.add((String) san.get(1));
                }
            }
        }
        return out;
    }

    /** The one SPIFFE ID a certificate carries (X509-SVID: exactly one URI SAN), or an exception saying what is wrong. */
    public static SpiffeId spiffeId(X509Certificate cert) throws CertificateParsingException {
        List<String> uris = uriSans(cert);
        if (uris.size() != 1) {
            throw new CertificateParsingException("certificate carries " + uris.size() + " URI SANs, not exactly one SPIFFE ID");
        }
        return SpiffeId.parse(uris.get(0));
    }

    /** Whether a private key is the one of a public key: a signature round trip, algorithm-independent for EC/RSA. */
    /** Whether a private key is the one of a public key; a key that cannot even be tried is not. */
    static boolean belongTogether(PrivateKey priv, PublicKey pub) {
        try {
            return X509Certs.belongTogether(priv, pub);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
