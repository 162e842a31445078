package dev.outpost.ima.policy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;

/** Loads EC and RSA public keys from SubjectPublicKeyInfo DER, X.509 certificates, or PEM holding either. */
public final class PublicKeys {
    // Keys files hold a handful of keys; a file with more is not what an operator meant.
    private static final int MAX_BLOCKS = 64;

    private PublicKeys() {
    }

    /** Every PUBLIC KEY and CERTIFICATE block of a PEM file; refuses a file with none. */
    public static List<PublicKey> fromPem(String pem) {
        List<PublicKey> out = new ArrayList<>();
        try (PemReader r = new PemReader(new StringReader(pem))) {
            PemObject o;
            while ((o = r.readPemObject()) != null) {
                if (out.size() == MAX_BLOCKS) {
                    throw new PolicyException("more than " + MAX_BLOCKS + " PEM blocks");
                }
                switch (o.getType()) {
                    case "PUBLIC KEY" -> out.add(fromSpki(o.getContent()));
                    case "CERTIFICATE" -> out.add(certificate(o.getContent()).getPublicKey());
                    default -> throw new PolicyException("PEM block " + o.getType() + " is not a public key or certificate");
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof PolicyException pe) {
                throw pe;
            }
            throw new PolicyException("malformed PEM: " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new PolicyException("no PUBLIC KEY or CERTIFICATE PEM block found");
        }
        return out;
    }

    public static List<PublicKey> fromPem(byte[] pem) {
        return fromPem(new String(pem, StandardCharsets.US_ASCII));
    }

    public static X509Certificate certificate(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw new PolicyException("not an X.509 certificate: " + e.getMessage(), e);
        }
    }

    public static PublicKey fromSpki(byte[] der) {
        String alg;
        try {
            String oid = SubjectPublicKeyInfo.getInstance(der).getAlgorithm().getAlgorithm().getId();
            alg = switch (oid) {
                case "1.2.840.10045.2.1" -> "EC";
                case "1.2.840.113549.1.1.1" -> "RSA";
                default -> throw new PolicyException("unsupported public key algorithm " + oid);
            };
        } catch (IllegalArgumentException e) {
            throw new PolicyException("not a SubjectPublicKeyInfo", e);
        }
        try {
            return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new PolicyException("invalid " + alg + " public key: " + e.getMessage(), e);
        }
    }

    /** A DER blob that is a certificate or a bare SPKI, as ima-buf key measurements are; null when neither. */
    public static PublicKey fromDerOrNull(byte[] der) {
        try {
            return certificate(der).getPublicKey();
        } catch (RuntimeException notCert) {
            try {
                return fromSpki(der);
            } catch (RuntimeException notKey) {
                return null;
            }
        }
    }
}
