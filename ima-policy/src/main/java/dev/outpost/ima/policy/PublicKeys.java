package dev.outpost.ima.policy;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

/** Loads EC and RSA public keys from SubjectPublicKeyInfo DER, X.509 certificates, or PEM holding either. */
public final class PublicKeys {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)-----END \\1-----");

    private PublicKeys() {
    }

    /** Every PUBLIC KEY and CERTIFICATE block of a PEM file; refuses a file with none. */
    public static List<PublicKey> fromPem(String pem) {
        List<PublicKey> out = new ArrayList<>();
        Matcher m = PEM.matcher(pem);
        while (m.find()) {
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (m.group(1)) {
                case "PUBLIC KEY" -> out.add(fromSpki(der));
                case "CERTIFICATE" -> out.add(certificate(der).getPublicKey());
                default -> throw new PolicyException("PEM block " + m.group(1) + " is not a public key or certificate");
            }
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
