package dev.outpost.appliance.ca;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.outpost.tpm.keys.Pem;

/** PEM for the CA's files: every block of a type, in order, with limits on how many. */
final class PemIo {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    private PemIo() {
    }

    static List<byte[]> blocks(String text, String type, int maxBlocks) {
        List<byte[]> out = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                if (out.size() == maxBlocks) {
                    throw new IllegalArgumentException("more than " + maxBlocks + " " + type + " blocks");
                }
                out.add(Base64.getMimeDecoder().decode(m.group(2)));
            }
        }
        return out;
    }

    static List<X509Certificate> certificates(String text, int maxCerts) throws GeneralSecurityException {
        List<X509Certificate> certs = new ArrayList<>();
        for (byte[] der : blocks(text, "CERTIFICATE", maxCerts)) {
            certs.add(certificate(der));
        }
        return certs;
    }

    static X509Certificate certificate(byte[] der) throws GeneralSecurityException {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    }

    static String encode(List<X509Certificate> certs) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certs) {
            sb.append(Pem.certificate(c));
        }
        return sb.toString();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
