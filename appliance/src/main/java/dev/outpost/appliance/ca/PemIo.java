package dev.outpost.appliance.ca;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

import dev.outpost.tpm.keys.Pem;

/** PEM for the CA's files: every block of a type, in order, with limits on how many (Bouncy Castle underneath). */
final class PemIo {
    private PemIo() {
    }

    static List<byte[]> blocks(String text, String type, int maxBlocks) {
        return Pem.blocks(text, type, maxBlocks);
    }

    static List<X509Certificate> certificates(String text, int maxCerts) throws GeneralSecurityException {
        return Pem.certificates(text, maxCerts);
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
