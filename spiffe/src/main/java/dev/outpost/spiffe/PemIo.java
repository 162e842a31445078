package dev.outpost.spiffe;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

import dev.outpost.tpm.keys.Pem;

/** PEM for the CA's files: every block of a type, in order, with limits on how many (Bouncy Castle underneath). */
public final class PemIo {
    private PemIo() {
    }

    public static List<byte[]> blocks(String text, String type, int maxBlocks) {
        return Pem.blocks(text, type, maxBlocks);
    }

    public static List<X509Certificate> certificates(String text, int maxCerts) throws GeneralSecurityException {
        return Pem.certificates(text, maxCerts);
    }

    public static X509Certificate certificate(byte[] der) throws GeneralSecurityException {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    }

    public static String encode(List<X509Certificate> certs) {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certs) {
            sb.append(Pem.certificate(c));
        }
        return sb.toString();
    }

    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
